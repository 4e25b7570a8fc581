//! The USD-M client's entry path against a real exchange-sim process on loopback: what
//! futures-agent does between deciding an entry and the entry order reaching the venue. Each
//! step is timed over many repetitions (p50 / p99 of one call's round trip) on a current-thread
//! runtime, as the agent runs:
//! - `set_leverage`: signed `POST /fapi/v1/leverage`, alternating two values so each call is a
//!   real change (the agent skips an unchanged leverage);
//! - `mark_price`: `GET /fapi/v1/premiumIndex`;
//! - `place`: a MARKET entry through `Execution::place` (rules, rounding, signing, the request),
//!   closed again afterwards by a reduce-only order that is not timed;
//! - `leverage+place`: the two in sequence, as the agent sends them;
//!
//! and then, with the adapter's market stream on BTCUSDT's 1 h klines and mark price, at the
//! moment futures-agent decides (when simulator runs, that is when it is busiest: it has just
//! generated a market hour and is pushing its frames):
//! - `close:leverage`: `set_leverage` sent as soon as a closed-kline frame is read;
//! - `close:lev+place`: `set_leverage` then the MARKET entry (checked against the streamed mark),
//!   timed from the closed-kline frame read;
//! - `idle:leverage`: `set_leverage` after 300 ms without a request, at no particular moment.
//!
//! The simulator runs at `BENCH_SIM_SPEED` market seconds per second (default 3600, the shipped
//! speed that scripts/bench/decision_latency.sh uses; 0 for a quiet simulator), from the binary
//! at `EXCHANGE_SIM_BIN` (default `target/release/exchange-sim`), with the repository's
//! `config/exchange_sim.toml` and its demo account, its rate limits raised out of the way.
//!
//! Run: `cargo build --release -p exchange-sim && cargo bench -p exchange-core --bench usdm_entry`
//! (`-- --quick` for a short run).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use exchange_core::binance::{BinanceUsdm, BinanceUsdmConfig};
use exchange_core::model::{
    AgentTag, ClientOrderId, OrderKind, OrderPurpose, OrderRequest, Qty, Side, Symbol,
};
use exchange_core::signing::{ApiCredentials, Secret};
use exchange_core::venue::{Endpoints, Environment, Execution, MarketData, MarketEvent, MarketFeed, Product};
use rust_decimal_macros::dec;

/// The simulator process, killed on drop.
struct Sim {
    child: Child,
    port: u16,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The repository's simulator config with limits no bench run reaches.
fn sim_config() -> String {
    let text = std::fs::read_to_string(repo_root().join("config/exchange_sim.toml")).unwrap();
    let raised = ["futures_weight_per_minute", "orders_per_10s", "orders_per_minute"];
    text.lines()
        .map(|l| match raised.iter().find(|k| l.starts_with(*k)) {
            Some(key) => format!("{key} = 1000000000"),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn start_sim(speed: &str) -> Sim {
    let root = repo_root();
    let bin = std::env::var_os("EXCHANGE_SIM_BIN")
        .map_or_else(|| root.join("target/release/exchange-sim"), PathBuf::from);
    assert!(bin.exists(), "no exchange-sim at {}: cargo build --release -p exchange-sim", bin.display());
    let config = std::env::temp_dir().join(format!("usdm_entry_bench_{}.toml", std::process::id()));
    std::fs::write(&config, sim_config()).unwrap();
    let mut child = Command::new(&bin)
        .arg("--config")
        .arg(&config)
        .args(["--port", "0", "--speed", speed])
        .args(["--backfill-days", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start exchange-sim");
    let stdout = child.stdout.take().expect("piped stdout");
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("listening on"))
        .expect("exchange-sim announces its address");
    let _ = std::fs::remove_file(&config);
    let port = line.rsplit(':').next().and_then(|p| p.trim().parse().ok()).expect("a port");
    Sim { child, port }
}

/// The demo account of the simulator's config (`api_key = "..."`, `api_secret = "..."`).
fn demo_credentials() -> ApiCredentials {
    let text = std::fs::read_to_string(repo_root().join("config/exchange_sim.toml")).unwrap();
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(key)?.trim().strip_prefix('=')?.trim().strip_prefix('"'))
            .and_then(|v| v.split('"').next())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{key} in config/exchange_sim.toml"))
    };
    ApiCredentials::new(value("api_key"), Secret::new(value("api_secret")))
}

fn order(seq: u64, side: Side, reduce_only: bool) -> OrderRequest {
    let purpose = if reduce_only { OrderPurpose::Close } else { OrderPurpose::Entry };
    OrderRequest {
        client_order_id: ClientOrderId::generate(AgentTag::Futures, purpose, 1_764_226_800_000, seq),
        symbol: Symbol::new("BTCUSDT").unwrap(),
        side,
        kind: OrderKind::Market,
        qty: Qty::new(dec!(0.002)),
        reduce_only,
        close_position: false,
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name:<16} n {:>5}  p50 {:>6.1} us  p99 {:>6.1} us  max {:>7.1} us",
        samples.len(),
        percentile(&samples, 0.50).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples.last().unwrap().as_secs_f64() * 1e6,
    );
}

async fn run(venue: &BinanceUsdm, rounds: u64) {
    let symbol = Symbol::new("BTCUSDT").unwrap();
    // Warm up: connection, clock, rules.
    venue.set_leverage(&symbol, 5).await.unwrap();
    venue.mark_price(&symbol).await.unwrap();
    let (mut leverage, mut mark, mut place, mut both) = (vec![], vec![], vec![], vec![]);
    for n in 0..rounds {
        let started = Instant::now();
        venue.set_leverage(&symbol, 6 + (n % 2) as u32).await.unwrap();
        leverage.push(started.elapsed());
        let started = Instant::now();
        venue.mark_price(&symbol).await.unwrap();
        mark.push(started.elapsed());
        let started = Instant::now();
        venue.place(&order(4 * n, Side::Buy, false)).await.unwrap();
        place.push(started.elapsed());
        venue.place(&order(4 * n + 1, Side::Sell, true)).await.unwrap();
        let started = Instant::now();
        venue.set_leverage(&symbol, 8 + (n % 2) as u32).await.unwrap();
        venue.place(&order(4 * n + 2, Side::Buy, false)).await.unwrap();
        both.push(started.elapsed());
        venue.place(&order(4 * n + 3, Side::Sell, true)).await.unwrap();
    }
    report("set_leverage", leverage);
    report("mark_price", mark);
    report("place", place);
    report("leverage+place", both);
}

/// The same calls at the moments the agent makes them: right after a bar closes.
async fn run_after_closes(venue: &BinanceUsdm, closes: u64) {
    let symbol = Symbol::new("BTCUSDT").unwrap();
    let streams = vec!["btcusdt@kline_1h".to_owned(), "btcusdt@markPrice".to_owned()];
    let mut stream = venue.start_market_stream(streams).await.unwrap();
    let (mut leverage, mut both, mut idle) = (vec![], vec![], vec![]);
    let mut n = 0;
    while n < closes {
        match stream.events.recv().await.expect("the market stream runs") {
            MarketEvent::Kline(k) if k.closed => {}
            _ => continue,
        }
        let read = Instant::now();
        venue.set_leverage(&symbol, 10 + (n % 2) as u32).await.unwrap();
        leverage.push(read.elapsed());
        venue.place(&order(1_000_000 + 4 * n, Side::Buy, false)).await.unwrap();
        both.push(read.elapsed());
        venue.place(&order(1_000_000 + 4 * n + 1, Side::Sell, true)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let started = Instant::now();
        venue.set_leverage(&symbol, 12 + (n % 2) as u32).await.unwrap();
        idle.push(started.elapsed());
        n += 1;
    }
    stream.control.shutdown().await;
    report("close:leverage", leverage);
    report("close:lev+place", both);
    report("idle:leverage", idle);
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let speed = std::env::var("BENCH_SIM_SPEED").unwrap_or_else(|_| "3600".into());
    let sim = start_sim(&speed);
    let endpoints = Endpoints::for_environment(Environment::Sim, Product::UsdM, sim.port);
    let venue = BinanceUsdm::new(BinanceUsdmConfig::new(endpoints, Some(demo_credentials()))).unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    println!("exchange-sim speed {speed}, port {}", sim.port);
    runtime.block_on(run(&venue, if quick { 200 } else { 2_000 }));
    if speed.parse::<f64>().is_ok_and(|s| s > 0.0) {
        runtime.block_on(run_after_closes(&venue, if quick { 10 } else { 60 }));
    }
}
