//! Backtest speed on real data: BTC, ETH and SOL perpetuals over their full history with mark
//! prices and funding (about 127,000 bar-steps), the simulation apart from file parsing.
//!
//! `cargo bench -p futures-agent --bench backtest`. Needs ../shared/data (or
//! `DUAL_AGENT_DATA_DIR`); without it, says so and measures nothing.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use agent_core::backtest::{self, load_dir};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_agent::config::FuturesConfig;
use futures_agent::strategy::Momentum;

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DUAL_AGENT_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join("futures-1h");
    dir.is_dir().then_some(dir)
}

fn bench(c: &mut Criterion) {
    let Some(dir) = data_dir() else {
        eprintln!("SKIPPED: shared data not found; set DUAL_AGENT_DATA_DIR");
        return;
    };
    let cfg = FuturesConfig::default();
    let symbols: Vec<_> =
        cfg.symbols.iter().filter_map(|s| cfg.rules_for(s).ok().map(|r| (s.clone(), r))).collect();
    let mut group = c.benchmark_group("futures_backtest");
    group.measurement_time(Duration::from_secs(8));
    group.bench_function("load_3_symbols_with_mark_and_funding", |b| {
        b.iter(|| load_dir(black_box(&dir), &symbols, None, None).map(|d| d.series.len()).unwrap_or(0))
    });
    let Ok(data) = load_dir(&dir, &symbols, None, None) else {
        eprintln!("cannot load {}", dir.display());
        return;
    };
    let strategy = Momentum::new(&cfg.strategy);
    let steps = backtest::run(&data.series, &cfg.strategy, &strategy).bar_steps;
    eprintln!("bar-steps per run: {steps}");
    group.throughput(Throughput::Elements(steps));
    group.bench_function("simulate_all_rules", |b| {
        b.iter(|| backtest::run(black_box(&data.series), &cfg.strategy, &strategy).trades.len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
