//! How long loading the shared real market data takes: the 73,265-row BTCUSDT spot file from disk
//! (read and parse) and from memory (parse only), a file whose prices are all in exponent form
//! (PEPEUSDT), and a funding file. Finds the data as the tests do (`DUAL_AGENT_DATA_DIR`, else
//! `<workspace root>/../shared/data`); without it, says so loudly and measures nothing.
//!
//! Run: `cargo bench -p exchange-core --bench load_klines`.

use std::fs;
use std::hint::black_box;
use std::path::Path;

use criterion::Criterion;
use exchange_core::marketdata::{load_funding, load_klines, parse_klines, shared_data_dir};

fn bench(c: &mut Criterion, dir: &Path) {
    let btc = dir.join("spot-1h/BTCUSDT.csv");
    let pepe = dir.join("spot-1h/PEPEUSDT.csv");
    let funding = dir.join("futures-1h/BTCUSDT-funding.csv");
    let btc_text = match fs::read_to_string(&btc) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("load_klines bench: cannot read {}: {error}; nothing measured", btc.display());
            return;
        }
    };

    c.bench_function("load_klines spot-1h/BTCUSDT.csv (73,265 rows)", |b| {
        b.iter(|| load_klines(black_box(&btc)).map(|series| series.bars.len()))
    });
    c.bench_function("parse_klines spot-1h/BTCUSDT.csv from memory", |b| {
        b.iter(|| parse_klines(black_box(&btc_text), &btc).map(|series| series.bars.len()))
    });
    c.bench_function("load_klines spot-1h/PEPEUSDT.csv (exponent prices)", |b| {
        b.iter(|| load_klines(black_box(&pepe)).map(|series| series.bars.len()))
    });
    c.bench_function("load_funding futures-1h/BTCUSDT-funding.csv", |b| {
        b.iter(|| load_funding(black_box(&funding)).map(|series| series.rates.len()))
    });
}

fn main() {
    let dir = match shared_data_dir() {
        Ok(Some(dir)) => dir,
        Ok(None) => {
            eprintln!("load_klines bench: SKIPPED, shared data not found; nothing measured");
            return;
        }
        Err(why) => {
            eprintln!("load_klines bench: SKIPPED, {why}; nothing measured");
            return;
        }
    };
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion, &dir);
    criterion.final_summary();
}
