#!/usr/bin/env bash
# futures-agent's decision latency on loopback: from the last closed-kline frame of a bar arriving
# to the entry order handed to the venue client (logged as decision_latency_us on every entry),
# p50 and p99 over a run of RUN_SECONDS (default 120) against exchange-sim at its default speed
# (one market hour per second). Also prints the agent's resident memory at the end, its average
# CPU over the run, and its CPU over IDLE_SECONDS (default 30) with the simulator slowed to real
# time, when the agent only waits for the next bar.
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
grep -o 'decision_latency_us=[0-9]*' "$work/logs/futures_agent.log" | cut -d= -f2 | sort -n | awk '
  {a[NR] = $1} END {
    if (NR == 0) { print "no entries in the run"; exit 1 }
    p50 = a[int((NR - 1) * 0.50) + 1]; p99 = a[int((NR - 1) * 0.99) + 1]
    printf "entries: %d  decision latency p50 %d us  p99 %d us  max %d us\n", NR, p50, p99, a[NR]
  }'
