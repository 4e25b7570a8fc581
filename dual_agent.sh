#!/usr/bin/env bash
# dual_agent.sh: the seed's workflow over `supervisor` (DESIGN §8). Builds the release binaries
# when they are missing or older than the sources, then runs the supervisor with this repository
# as its root. Both word orders of the seed work: `./dual_agent.sh main start` and
# `./dual_agent.sh start main`, `./dual_agent.sh futures logs` and `./dual_agent.sh logs futures`.
#
# Environment:
#   SKIP_BUILD=1            never build (use the binaries as they are)
#   DUAL_AGENT_BIN_DIR=DIR  take the binaries from DIR (implies SKIP_BUILD)
#   CARGO_TARGET_DIR        where cargo builds (binaries in $CARGO_TARGET_DIR/release)
# Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config, 3 not running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  cat <<'EOF'
Usage: ./dual_agent.sh COMMAND [AGENT] [OPTIONS]
       ./dual_agent.sh AGENT COMMAND [OPTIONS]

Commands:
  start [AGENT]              start agents (and exchange-sim when they trade on it); waits until ready
  stop [AGENT]               stop agents (SIGTERM, SIGKILL after stop_grace); `stop` alone also stops exchange-sim
  restart [AGENT]            stop, then start
  status [AGENT] [--json]    state, PID, uptime, P&L, positions, memory, CPU; exit 3 unless all running
  logs [AGENT] [-f] [-n N]   last N lines of the logs; -f follows them
  reload [AGENT]             agents reload their config (SIGHUP)
  flatten [AGENT] [--yes]    emergency: close every position at market (SIGUSR2); asks first
  monitor [--watch [--interval S]] [--export [DIR]] [--html FILE]
                             P&L, trades, positions: a snapshot, the live dashboard, or the report
  notify-summary             send today's performance summary to Discord now
  doctor                     check binaries, configs, folders, PID files, the simulator's port
  run                        foreground mode (systemd): start all, restart what dies

AGENT: main, futures, sim (exchange-sim) or all (the default: every installed agent).

Examples:
  ./dual_agent.sh start                 ./dual_agent.sh futures stop
  ./dual_agent.sh status                ./dual_agent.sh logs futures -f

The first run builds the release binaries (a few minutes); later runs rebuild only when the
sources changed. SKIP_BUILD=1 skips that; DUAL_AGENT_BIN_DIR=DIR uses binaries from DIR.
Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config, 3 not running.
EOF
}

is_command() {
  case "$1" in start | stop | restart | status | logs | reload | flatten | monitor | notify-summary | doctor | run) return 0 ;; esac
  return 1
}
is_agent() {
  case "$1" in main | futures | sim | exchange-sim | all) return 0 ;; esac
  return 1
}

if [ $# -eq 0 ]; then
  usage >&2
  exit 2
fi
case "$1" in -h | --help | help)
  usage
  exit 0
  ;;
esac
# The seed's order: AGENT COMMAND [OPTIONS] becomes COMMAND AGENT [OPTIONS].
if [ $# -ge 2 ] && is_agent "$1" && is_command "$2"; then
  agent="$1" command="$2"
  shift 2
  set -- "$command" "$agent" "$@"
fi
if ! is_command "$1"; then
  echo "dual_agent.sh: unknown command or agent order: $*" >&2
  usage >&2
  exit 2
fi

if [ -n "${DUAL_AGENT_BIN_DIR:-}" ]; then
  BIN_DIR="$DUAL_AGENT_BIN_DIR"
  SKIP_BUILD=1
else
  target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  case "$target_dir" in /*) ;; *) target_dir="$ROOT/$target_dir" ;; esac
  BIN_DIR="$target_dir/release"
fi

# The binaries to build; main-agent once its crate has a binary.
packages=(supervisor futures-agent exchange-sim)
if [ -f "$ROOT/crates/main-agent/src/main.rs" ]; then
  packages+=(main-agent)
fi

needs_build() {
  local missing=0 stale=0 bin
  for bin in "${packages[@]}"; do
    if [ ! -x "$BIN_DIR/$bin" ]; then
      missing=1
    elif [ -n "$(find "$ROOT/crates" "$ROOT/Cargo.toml" "$ROOT/Cargo.lock" -newer "$BIN_DIR/$bin" \
      \( -name '*.rs' -o -name Cargo.toml -o -name Cargo.lock \) -not -path '*/target/*' -print -quit 2>/dev/null)" ]; then
      stale=1
    fi
  done
  if [ "$missing" = 1 ]; then
    echo "building release binaries (first run takes a few minutes)..." >&2
  elif [ "$stale" = 1 ]; then
    echo "sources changed: rebuilding release binaries..." >&2
  else
    return 1
  fi
  return 0
}

if [ "${SKIP_BUILD:-0}" != 1 ] && needs_build; then
  if ! command -v cargo >/dev/null 2>&1; then
    echo "dual_agent.sh: cargo not found: install Rust (https://rustup.rs), then run this again" >&2
    exit 1
  fi
  args=()
  for p in "${packages[@]}"; do args+=(-p "$p"); done
  if ! (cd "$ROOT" && cargo build --release --locked --quiet "${args[@]}"); then
    echo "dual_agent.sh: the build failed (see above)" >&2
    exit 1
  fi
fi

if [ ! -x "$BIN_DIR/supervisor" ]; then
  echo "dual_agent.sh: no supervisor binary in $BIN_DIR (unset SKIP_BUILD to build it)" >&2
  exit 2
fi
exec "$BIN_DIR/supervisor" --root "$ROOT" --bin-dir "$BIN_DIR" "$@"
