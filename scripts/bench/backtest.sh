#!/usr/bin/env bash
# Backtest speed on BTC+ETH+SOL perpetuals over their full history (mark prices and funding):
# the simulation alone (criterion, file parsing apart), the whole command, peak memory, and the
# ratio against a plain Python loop of the same rules (scripts/bench/backtest_reference.py).
# Medians of several runs. Needs ../shared/data (or DUAL_AGENT_DATA_DIR) and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
data="${DUAL_AGENT_DATA_DIR:-../shared/data}/futures-1h"
[ -d "$data" ] || { echo "shared data not found at $data (set DUAL_AGENT_DATA_DIR)" >&2; exit 2; }
runs="${RUNS:-7}"
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

cargo build --release -q -p futures-agent
echo "== simulation (criterion, parsing excluded)"
cargo bench -q -p futures-agent --bench backtest 2>/dev/null | tee /tmp/dual-agent-bench.txt | grep -E "^futures_backtest|time:|thrpt:" || true
rust_rate=$(awk '/simulate_all_rules/{f=1} f && /thrpt:/ {print $4, $5; exit}' /tmp/dual-agent-bench.txt)
rust_per_s=$(echo "$rust_rate" | awk '{v=$1; u=$2; m=(u ~ /^M/)?1e6:(u ~ /^K/)?1e3:1; printf "%.0f", v*m}')

echo "== whole command, $runs runs"
report=$(mktemp --suffix=.json)
for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" ./target/release/futures-agent backtest --data "$data" --report "$report" 2>&1 >/dev/null | tail -1
done > /tmp/dual-agent-cmd.txt
echo "wall median: $(cut -d' ' -f1 /tmp/dual-agent-cmd.txt | median) s; peak RSS median: $(cut -d' ' -f2 /tmp/dual-agent-cmd.txt | median) KB"
rm -f "$report"

echo "== plain Python loop of the same rules, $runs runs"
for _ in $(seq "$runs"); do
  python3 scripts/bench/backtest_reference.py "$data" | awk '/bar_steps_per_second/ {print $6}'
done > /tmp/dual-agent-py.txt
py_per_s=$(median < /tmp/dual-agent-py.txt)
echo "python: $py_per_s bar-steps/s; rust: $rust_per_s bar-steps/s; ratio: $(awk -v r="$rust_per_s" -v p="$py_per_s" 'BEGIN {printf "%.1fx", r/p}')"
