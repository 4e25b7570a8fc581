#!/usr/bin/env bash
# The project's test command: formatting, lints, then every test of the workspace.
# Tests that need ../shared/data skip loudly when it is absent; REQUIRE_SHARED_DATA=1 makes that a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  cargo test --workspace --doc --locked
else
  cargo test --workspace --locked --no-fail-fast
fi
