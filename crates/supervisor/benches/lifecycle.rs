//! Wall times of the supervisor on exchange-sim with release builds, as a user sees them:
//! `supervisor start` (exchange-sim, futures-agent and main-agent, to ready), `supervisor status`
//! with all three running, and `supervisor stop` (all, gracefully). Targets: status under 20 ms,
//! start and stop under 2 s each.
//!
//! `cargo bench -p supervisor --bench lifecycle` (builds the release binaries it needs first).
//! Each figure is over several rounds in a fresh temp root, on a free port; the median, the best
//! and the worst are printed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The end-to-end tests' sandbox: the temp root, its configs, the binaries, the process guard.
#[path = "../../../tests/supervisor_support/mod.rs"]
mod supervisor_support;

use std::time::{Duration, Instant};

use supervisor_support::Sandbox;

const ROUNDS: usize = 8;
const STATUS_CALLS: usize = 25;

fn timed(sandbox: &Sandbox, args: &[&str]) -> Duration {
    let started = Instant::now();
    sandbox.run(args).expect_code(0);
    started.elapsed()
}

fn summary(name: &str, target_ms: f64, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = ms(times[times.len() / 2]);
    let verdict = if median < target_ms { "ok" } else { "OVER TARGET" };
    println!(
        "{name:<32} median {median:>8.1} ms   best {:>8.1} ms   worst {:>8.1} ms   (n = {}, target < {target_ms} ms: {verdict})",
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing special: run once, small.
    let quick = !std::env::args().any(|a| a == "--bench");
    let rounds = if quick { 1 } else { ROUNDS };
    let sandbox = Sandbox::new("bench");
    let (mut starts, mut stops, mut statuses) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        starts.push(timed(&sandbox, &["start"]));
        for _ in 0..if quick { 1 } else { STATUS_CALLS } {
            statuses.push(timed(&sandbox, &["status"]));
        }
        stops.push(timed(&sandbox, &["stop"]));
    }
    println!("supervisor on exchange-sim, binaries in {}", supervisor_support::bin_dir().display());
    summary("start all (sim + both agents) to ready", 2000.0, starts);
    summary("status (all three running)", 20.0, statuses);
    summary("stop all", 2000.0, stops);
}
