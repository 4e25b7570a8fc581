//! Backtest speed on real data: the 30 pairs of ../shared/data/spot-1h that cover 2024-10-01 to
//! 2026-02-19 (about 364,000 asset-bars), every feature on, the gate's model refitted every
//! week of bars, the simulation apart from file parsing; and the same with the ML gate off, to
//! show what the training costs.
//!
//! `cargo bench -p main-agent --bench backtest`. Needs ../shared/data (or
//! `DUAL_AGENT_DATA_DIR`); without it, says so and measures nothing.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use agent_core::spot::{SpotParams, load_spot_dir, run_spot};
use agent_core::time::parse_date_ms;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exchange_core::Symbol;
use main_agent::config::MainConfig;

const PAIRS: [&str; 30] = [
    "AAVEUSDT", "ADAUSDT", "ARBUSDT", "AVAXUSDT", "AXSUSDT", "BCHUSDT", "BNBUSDT", "BTCUSDT", "DASHUSDT",
    "DOGEUSDT", "DOTUSDT", "ENAUSDT", "ETHUSDT", "INJUSDT", "LINKUSDT", "LTCUSDT", "NEARUSDT", "OMUSDT",
    "OPUSDT", "PAXGUSDT", "SNXUSDT", "SOLUSDT", "SUIUSDT", "TAOUSDT", "TRXUSDT", "UNIUSDT", "XRPUSDT",
    "XTZUSDT", "ZECUSDT", "ZROUSDT",
];

fn data_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DUAL_AGENT_DATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"))
        .join("spot-1h");
    dir.is_dir().then_some(dir)
}

fn bench(c: &mut Criterion) {
    let Some(dir) = data_dir() else {
        eprintln!("SKIPPED: shared data not found; set DUAL_AGENT_DATA_DIR");
        return;
    };
    let cfg = MainConfig::default();
    let symbols: Vec<Symbol> = PAIRS.iter().filter_map(|s| Symbol::new(s).ok()).collect();
    let (Ok(from), Ok(to)) = (parse_date_ms("2024-10-01"), parse_date_ms("2026-02-19")) else { return };
    let Ok(data) = load_spot_dir(&dir, &symbols, &|s, b| cfg.rules_for(s, b), Some(from), Some(to)) else {
        eprintln!("cannot load {}", dir.display());
        return;
    };
    let params = cfg.params();
    let run = run_spot(&data.series, data.interval_ms, &params);
    eprintln!("asset-bars per run: {}, trades {}, model fits {}", run.bar_steps, run.trades.len(), run.fits);
    let mut group = c.benchmark_group("main_backtest");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(12));
    group.throughput(Throughput::Elements(run.bar_steps));
    group.bench_function("30_pairs_every_feature_on", |b| {
        b.iter(|| run_spot(black_box(&data.series), data.interval_ms, &params).trades.len())
    });
    let mut no_gate: SpotParams = params.clone();
    no_gate.features.ml_gate = false;
    group.bench_function("30_pairs_gate_off", |b| {
        b.iter(|| run_spot(black_box(&data.series), data.interval_ms, &no_gate).trades.len())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
