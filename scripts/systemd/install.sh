#!/usr/bin/env bash
# Installs dual-agent under systemd: the binaries to PREFIX/bin, the configs to STATE_DIR/config
# (existing ones are kept; log_dir is pointed at LOG_DIR), a system user, and the units:
#   dual-agent.service           `supervisor run`: everything, supervised by the supervisor
#   dual-agent-futures.service   the agents and exchange-sim supervised by systemd directly
#   dual-agent-main.service      (use these or dual-agent.service, not both: they conflict)
#   dual-agent-sim.service
# Build first (./dual_agent.sh doctor builds, or cargo build --release). Run as root.
#
# Usage: scripts/systemd/install.sh [--prefix DIR] [--state-dir DIR] [--log-dir DIR] [--user NAME]
#                                   [--bin-from DIR] [--unit-dir DIR] [--render-only DIR]
#   --prefix      where the binaries go (PREFIX/bin)            [/opt/dual-agent]
#   --state-dir   the supervisor's root: config/, run/, journals [/var/lib/dual-agent]
#   --log-dir     the logs                                       [/var/log/dual-agent]
#   --user        the system user the services run as           [dual-agent]
#   --bin-from    where the built binaries are                   [target/release of this repo]
#   --unit-dir    where the units go                             [/etc/systemd/system]
#   --render-only DIR: only write the units (with the paths above) into DIR; install nothing
#                 (the test suite verifies them this way with systemd-analyze)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PREFIX=/opt/dual-agent
STATE_DIR=/var/lib/dual-agent
LOG_DIR=/var/log/dual-agent
SERVICE_USER=dual-agent
BIN_FROM="${CARGO_TARGET_DIR:-$REPO/target}/release"
UNIT_DIR=/etc/systemd/system
RENDER_ONLY=""

die() {
  echo "install.sh: $*" >&2
  exit 2
}
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2:?}"; shift 2 ;;
    --state-dir) STATE_DIR="${2:?}"; shift 2 ;;
    --log-dir) LOG_DIR="${2:?}"; shift 2 ;;
    --user) SERVICE_USER="${2:?}"; shift 2 ;;
    --bin-from) BIN_FROM="${2:?}"; shift 2 ;;
    --unit-dir) UNIT_DIR="${2:?}"; shift 2 ;;
    --render-only) RENDER_ONLY="${2:?}"; shift 2 ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for dir in "$PREFIX" "$STATE_DIR" "$LOG_DIR"; do
  case "$dir" in /*) ;; *) die "$dir: paths must be absolute" ;; esac
done

render() { # template -> unit
  sed -e "s|@BIN_DIR@|$PREFIX/bin|g" -e "s|@STATE_DIR@|$STATE_DIR|g" -e "s|@LOG_DIR@|$LOG_DIR|g" \
    -e "s|@USER@|$SERVICE_USER|g" "$1" >"$2"
}
render_all() { # into DIR
  mkdir -p "$1"
  for template in "$HERE"/*.service.in; do
    render "$template" "$1/$(basename "$template" .in)"
  done
}

if [ -n "$RENDER_ONLY" ]; then
  render_all "$RENDER_ONLY"
  echo "units written to $RENDER_ONLY"
  exit 0
fi

[ "$(id -u)" = 0 ] || die "run as root (it writes $PREFIX, $STATE_DIR, $LOG_DIR and $UNIT_DIR)"
for bin in supervisor futures-agent exchange-sim; do
  [ -x "$BIN_FROM/$bin" ] || die "no $bin in $BIN_FROM: build first (cargo build --release --locked -p supervisor -p futures-agent -p exchange-sim)"
done

if ! id "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --home-dir "$STATE_DIR" --no-create-home --shell /usr/sbin/nologin "$SERVICE_USER"
fi
install -d -m 0755 "$PREFIX/bin"
for bin in supervisor futures-agent exchange-sim main-agent; do
  if [ -x "$BIN_FROM/$bin" ]; then
    install -m 0755 "$BIN_FROM/$bin" "$PREFIX/bin/$bin"
  fi
done
install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE_DIR" "$STATE_DIR/config" "$STATE_DIR/run" "$LOG_DIR"
for config in "$REPO"/config/*.toml; do
  target="$STATE_DIR/config/$(basename "$config")"
  if [ ! -e "$target" ]; then
    # Relative paths in the configs resolve against STATE_DIR (the working directory); the logs
    # go to LOG_DIR.
    sed -e "s|^log_dir = .*|log_dir = \"$LOG_DIR\"|" "$config" >"$target"
    chown "$SERVICE_USER:$SERVICE_USER" "$target"
    chmod 0640 "$target"
  else
    echo "kept $target (already there)"
  fi
done
render_all "$UNIT_DIR"
systemctl daemon-reload
cat <<EOT
installed. Start everything under the supervisor:
  systemctl enable --now dual-agent.service
or let systemd supervise each program directly:
  systemctl enable --now dual-agent-sim.service dual-agent-futures.service
Status:  $PREFIX/bin/supervisor --root $STATE_DIR status
Secrets (BINANCE_API_KEY, ...) go in $STATE_DIR/.env (chmod 600, owned by $SERVICE_USER).
EOT
