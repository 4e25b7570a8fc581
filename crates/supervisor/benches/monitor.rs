//! The monitor's costs, over journals this bench writes into a temp root in agent-core's
//! format:
//!
//! - `supervisor monitor --export` over a futures-agent journal of 100,000 closed trades (plus,
//!   per trade, the entry order and both fills, and a day rollover per day: 400,000+ lines)
//!   and a main-agent journal of 10,000 trades: the library call (read, metrics, JSON written)
//!   and the whole release binary as a user runs it. Target: under 300 ms.
//! - one dashboard refresh with both agents running (their PID files held by this process,
//!   their status files rewritten and a trade appended to each journal before every refresh):
//!   read what changed and draw the frame (ratatui's test backend, 150 x 45). CPU time of the
//!   refreshing thread, from `/proc/thread-self/schedstat`. Target: under 5 ms.
//!
//! `cargo bench -p supervisor --bench monitor`. Without `--bench` (as `cargo test --benches`
//! runs it) it runs once on a journal of 10,000 trades.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

// Shared with the monitor's tests: the temp root, the agents' files, the binary, the generator.
#[path = "../tests/monitor_support/mod.rs"]
mod monitor_support;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use agent_core::pidfile::PidFile;
use agent_core::status::{BreakerStatus, PositionStatus, StatusSnapshot};
use exchange_core::{PositionSide, Qty, Symbol};
use nix::time::{ClockId, clock_gettime};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rust_decimal::Decimal;
use supervisor::monitor::dashboard;
use supervisor::monitor::report::{Report, write_json};
use supervisor::monitor::watch::{Monitor, wall_clock_ms};

use monitor_support::{Lcg, sources, supervisor};

/// 2024-01-01 00:00 UTC.
const D0: i64 = 1_704_067_200_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// Appends records the way agent-core's journal writes them.
struct Writer {
    out: BufWriter<File>,
    seq: u64,
    equity: Decimal,
    day: i64,
    t: i64,
    rng: Lcg,
}

impl Writer {
    fn create(path: &Path, seed: u64) -> Self {
        let out = BufWriter::new(File::create(path).unwrap());
        let mut w = Self { out, seq: 0, equity: Decimal::from(10_000), day: -1, t: D0, rng: Lcg(seed) };
        w.record(D0, "session", &format!(r#""session_ms":{D0}"#));
        w
    }

    fn open_append(path: &Path, seed: u64, t: i64) -> Self {
        let out = BufWriter::new(std::fs::OpenOptions::new().append(true).open(path).unwrap());
        Self { out, seq: 1_000_000_000, equity: Decimal::ZERO, day: t / DAY, t, rng: Lcg(seed) }
    }

    fn record(&mut self, ts: i64, kind: &str, fields: &str) {
        self.seq += 1;
        writeln!(self.out, r#"{{"seq":{},"ts":{ts},"kind":"{kind}",{fields}}}"#, self.seq).unwrap();
    }

    /// One trade: entry order, entry fill, exit fill, position closed.
    fn trade(&mut self, n: u64) {
        self.t += i64::try_from(self.rng.next(40) + 1).unwrap() * 60_000;
        let t = self.t;
        if t / DAY != self.day {
            self.day = t / DAY;
            let fields = format!(r#""day":"d{}","open_equity":"{}""#, self.day, self.equity);
            self.record(t, "day_rollover", &fields);
        }
        let pnl = Decimal::new(i64::try_from(self.rng.next(20_001)).unwrap() - 9_800, 2);
        self.equity += pnl;
        let entry = format!(
            r#""purpose":"entry","order":{{"client_order_id":"fa-en-{n}","symbol":"BTCUSDT","side":"buy","kind":"market","qty":"0.010","reduce_only":false,"close_position":false}},"leverage":10"#
        );
        self.record(t - HOUR, "order_sent", &entry);
        for (id, price) in [(format!("fa-en-{n}"), "60000.1"), (format!("fa-sl-{n}-1"), "60120.5")] {
            let fill = format!(
                r#""client_order_id":"{id}","symbol":"BTCUSDT","side":"buy","price":"{price}","qty":"0.010","fee":"0.30","fee_asset":"USDT","trade_id":{n},"time_exchange":{t}"#
            );
            self.record(t, "fill", &fill);
        }
        let closed = format!(
            r#""symbol":"BTCUSDT","side":"long","entry_time":{},"exit_time":{t},"entry_price":"60000.1","exit_price":"60120.5","qty":"0.010","leverage":10,"fees":"0.60","funding":"0","pnl":"{pnl}","exit_reason":"take_profit""#,
            t - HOUR
        );
        self.record(t, "position_closed", &closed);
    }
}

fn snapshot(agent: &str, pid: u32, last_ms: i64, round: u32) -> StatusSnapshot {
    let position = |symbol: &str| PositionStatus {
        symbol: Symbol::new(symbol).unwrap(),
        side: PositionSide::Long,
        qty: Qty::new(Decimal::new(10, 3)),
        entry: Decimal::from(60_000),
        mark: Decimal::from(60_000 + round),
        unrealized_pnl: Decimal::new(i64::from(round), 2),
        leverage: 10,
        liquidation_price: Some(Decimal::new(5_427_135, 2)),
        stop_ids: vec!["fa-sl-1-1".to_owned(), "fa-tp-1-2".to_owned()],
    };
    StatusSnapshot {
        agent: agent.to_owned(),
        pid,
        ready: true,
        mode: "live".to_owned(),
        venue: "sim".to_owned(),
        started_ms: D0,
        last_activity_ms: last_ms,
        equity: Decimal::from(10_000),
        day_start_equity: Decimal::from(10_000),
        daily_pnl: Decimal::new(1234, 2),
        positions: vec![position("BTCUSDT"), position("ETHUSDT"), position("SOLUSDT")],
        trades_today: 3,
        win_rate_today: Some(0.5),
        breaker: BreakerStatus { tripped: false, tripped_on: None },
        last_error: None,
        regimes: Default::default(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn summary(name: &str, target_ms: f64, mut times: Vec<f64>) {
    times.sort_by(f64::total_cmp);
    let pick = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
    let verdict = if pick(0.5) < target_ms { "ok" } else { "OVER TARGET" };
    println!(
        "{name:<52} median {:>8.2} ms   p99 {:>8.2} ms   worst {:>8.2} ms   (n = {}, target < {target_ms} ms: {verdict})",
        pick(0.5),
        pick(0.99),
        times[times.len() - 1],
        times.len()
    );
}

/// CPU time of this thread so far (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu() -> Duration {
    Duration::from(clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).unwrap())
}

fn main() {
    let quick = !std::env::args().any(|a| a == "--bench");
    let (futures_trades, main_trades, rounds, refreshes) =
        if quick { (10_000, 1_000, 1, 5) } else { (100_000, 10_000, 7, 300) };
    let root = monitor_support::root("bench");
    std::fs::create_dir_all(root.join("out")).unwrap();
    let futures_path = root.join("logs/futures_trades.jsonl");
    let main_path = root.join("logs/main_trades.jsonl");
    let mut futures = Writer::create(&futures_path, 1);
    for n in 0..futures_trades {
        futures.trade(n);
    }
    let mut main = Writer::create(&main_path, 2);
    for n in 0..main_trades {
        main.trade(n);
    }
    let (futures_end, main_end) = (futures.t, main.t);
    drop((futures, main));
    let size = std::fs::metadata(&futures_path).unwrap().len();
    let lines = std::fs::read(&futures_path).unwrap().iter().filter(|b| **b == b'\n').count();
    println!(
        "futures-agent journal: {futures_trades} trades, {lines} lines, {:.1} MB; main-agent journal: {main_trades} trades",
        size as f64 / 1e6
    );

    // The export, as a library call and as the command.
    let mut library = Vec::new();
    let mut command = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        let mut monitor = Monitor::new(sources(&root));
        monitor.refresh();
        let report = Report::build(&monitor, wall_clock_ms());
        write_json(&report, &root.join("out/report.json")).unwrap();
        library.push(ms(started.elapsed()));
        assert_eq!(report.agents[1].figures.metrics.trades.trades, futures_trades as usize);

        let started = Instant::now();
        let out = supervisor(&root).args(["monitor", "--export", "out"]).output().unwrap();
        command.push(ms(started.elapsed()));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    summary("export, library call (read + metrics + JSON)", 300.0, library);
    summary("export, `supervisor monitor --export` (binary)", 300.0, command);

    // The dashboard's refresh with both agents running.
    let _main_pid = PidFile::acquire(&root.join("run/main-agent.pid")).unwrap();
    let _futures_pid = PidFile::acquire(&root.join("run/futures-agent.pid")).unwrap();
    let mut monitor = Monitor::new(sources(&root));
    monitor.refresh();
    let mut terminal = Terminal::new(TestBackend::new(150, 45)).unwrap();
    terminal.draw(|frame| dashboard::render(frame, &monitor)).unwrap();
    let mut futures = Writer::open_append(&futures_path, 3, futures_end);
    let mut main = Writer::open_append(&main_path, 4, main_end);
    let pid = std::process::id();
    let mut cpu = Vec::new();
    for round in 0..refreshes {
        // What the agents do between two refreshes.
        futures.trade(u64::from(round));
        main.trade(u64::from(round));
        futures.out.flush().unwrap();
        main.out.flush().unwrap();
        snapshot("futures-agent", pid, futures.t, round)
            .write(&root.join("run/futures-agent.status.json"))
            .unwrap();
        snapshot("main-agent", pid, main.t, round).write(&root.join("run/main-agent.status.json")).unwrap();

        let before = thread_cpu();
        monitor.refresh();
        terminal.draw(|frame| dashboard::render(frame, &monitor)).unwrap();
        cpu.push(ms(thread_cpu() - before));
    }
    assert_eq!(monitor.agents[1].state(), "running");
    summary("dashboard refresh + draw, both running (CPU)", 5.0, cpu);
    std::fs::remove_dir_all(&root).unwrap();
}
