#!/usr/bin/env bash
# futures-agent's decision latency on loopback, p50 and p99 over a run of RUN_SECONDS (default
# 120) against exchange-sim at its default speed (one market hour per second). Two figures, both
# logged on the first entry after a bar's closes:
# - close to wire (`close_to_wire_us`, logged by the USD-M adapter): from the last closed-kline
#   frame of the bar read off the market stream's socket (before it is parsed) to the entry
#   order's request handed to the HTTP client, signed and built (its connection task writes it
#   to the socket from there; that write and the kernel's delivery are not counted, nor the time
#   a frame waits in the socket buffer before the stream task reads it). In between: the channel
#   hop to the agent's task, the other symbols' closes it handles first, the decision, the
#   journal records, the set-leverage round trip when the leverage changes (the entry never
#   goes out before the venue confirmed it), rounding and signing.
# - decision (`decision_latency_us`, logged by the runtime): from the agent's task receiving
#   that close event to the entry handed to the venue client; the part of the above the agent's
#   runtime sees.
# The close-to-wire figure is also given apart for entries whose leverage was set ahead of the
# close (no venue round trip on the way) and for those that waited for a set-leverage answer
# (`leverage_wait_us` on the runtime's line: how long), since the second kind measures the
# venue's round trip more than the agent.
# Also prints the agent's resident memory at the end, its average CPU over the run, and its CPU
# over IDLE_SECONDS (default 30) with the simulator slowed to real time, when the agent only
# waits for the next bar.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p futures-agent -p exchange-sim
work=$(mktemp -d)
trap 'pkill -f "$work" 2>/dev/null || true; kill $(jobs -p) 2>/dev/null || true' EXIT
mkdir -p "$work/config"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed "s/^port = .*/port = $port/; s/^backfill_days = .*/backfill_days = 5.0/" config/exchange_sim.toml > "$work/config/exchange_sim.toml"
cp config/futures_agent.toml "$work/config/"
bin="$PWD/target/release"
(cd "$work" && exec "$bin/exchange-sim" --config config/exchange_sim.toml > sim.out 2>&1) &
until grep -q "listening on" "$work/sim.out" 2>/dev/null; do sleep 0.2; done
(cd "$work" && exec "$bin/futures-agent" run > agent.out 2>&1) &
sleep "${RUN_SECONDS:-120}"
pid=$(cat "$work/run/futures-agent.pid")
echo "agent RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/"$pid"/status), CPU: $(ps -o pcpu= -p "$pid")% average"
curl -s -X POST "http://127.0.0.1:$port/sim/speed?value=1" > /dev/null
ticks() { awk '{print $14 + $15}' /proc/"$pid"/stat; }
hz=$(getconf CLK_TCK); idle="${IDLE_SECONDS:-30}"; before=$(ticks); sleep "$idle"; after=$(ticks)
awk -v a="$after" -v b="$before" -v hz="$hz" -v s="$idle" 'BEGIN {printf "agent CPU at real-time speed: %.2f%%\n", (a - b) / hz / s * 100}'
# Each entry's two log lines, paired (the runtime's follows the adapter's): close to wire,
# decision, and the part of both spent waiting for a set-leverage answer (0 when the leverage was
# prepared ahead of the close).
awk '/close_to_wire_us=/ { match($0, /close_to_wire_us=[0-9]+/); wire = substr($0, RSTART + 17, RLENGTH - 17) }
     /decision_latency_us=/ && wire != "" {
       match($0, /decision_latency_us=[0-9]+/); decision = substr($0, RSTART + 20, RLENGTH - 20)
       match($0, /leverage_wait_us=[0-9]+/); wait = substr($0, RSTART + 17, RLENGTH - 17)
       print wire, decision, wait; wire = "" }' "$work/logs/futures_agent.log" > "$work/entries"
percentiles() { # $1: the column, $2: the label, $3: an awk filter on the rows
  awk "$3" "$work/entries" | awk -v c="$1" '{print $c}' | sort -n | awk -v label="$2" '
    function rank(p,  r) { r = int(p * NR); if (r < p * NR) r++; return r < 1 ? 1 : r }
    {a[NR] = $1} END {
      if (NR == 0) { printf "%-60s no entries\n", label; exit }
      # Nearest rank: the smallest value with at least p of the entries at or below it (with
      # fewer than 100 entries, p99 is the maximum).
      p50 = a[rank(0.50)]; p99 = a[rank(0.99)]
      under = 0; for (i = 1; i <= NR; i++) if (a[i] < 200) under++
      printf "%-60s %3d entries  p50 %4d us  p99 %4d us  (%d under 200 us)\n", label, NR, p50, p99, under
    }'
}
[ -s "$work/entries" ] || { echo "no entries in the run"; exit 1; }
percentiles 1 "close frame read to entry on the wire, all:" '1'
percentiles 1 "  leverage prepared ahead (no round trip):" '$3 == 0'
percentiles 1 "  waiting for a set-leverage answer:" '$3 > 0'
percentiles 3 "  ... of which the set-leverage round trip:" '$3 > 0'
percentiles 2 "decision latency (close event in the agent to the client), all:" '1'
