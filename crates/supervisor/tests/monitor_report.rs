//! The report of the real `supervisor monitor --export` / `--html` binary over generated
//! journals in a temp root, checked against an independent computation: the equity series is
//! rebuilt from the P&Ls the test wrote, and every metric is recomputed from it here with plain
//! loops (DESIGN §12), not with risk-core. Also: the HTML is well-formed and holds its charts,
//! and `notify-summary` posts to a loopback Discord webhook without printing it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::cast_precision_loss)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::str::FromStr;

mod monitor_support;

use agent_core::journal::{Durability, Journal};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde_json::{Value, json};

use monitor_support::{Lcg, root, supervisor};

const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;
/// 2024-01-01 00:00 UTC, a Monday.
const D0: i64 = 1_704_067_200_000;

fn run(root: &Path, args: &[&str]) -> Output {
    supervisor(root).args(args).output().unwrap()
}

/// What the test wrote into one journal.
struct Written {
    start: (i64, Decimal),
    /// `(time, pnl, strategy)` of each closed trade.
    trades: Vec<(i64, Decimal, &'static str)>,
    skipped_lines: Vec<u64>,
}

/// What to write into one journal.
struct Plan {
    seed: u64,
    /// Closed trades.
    n: usize,
    /// Time of the first record.
    start_ms: i64,
    /// `open_equity` of a `day_rollover` before the first trade, if any.
    open_equity: Option<&'static str>,
    /// Cycled through, one per trade (`None`: the record names none, `default` is expected).
    strategies: &'static [Option<&'static str>],
    default: &'static str,
    /// The agent's `capital` in its config.
    capital: Decimal,
}

/// Writes the journal of `plan` at `path`.
fn write_journal(path: &Path, plan: &Plan) -> Written {
    let Plan { seed, n, start_ms, open_equity, strategies, default, capital } = *plan;
    let mut rng = Lcg(seed);
    // Records go through agent-core's own writer; the broken lines beside it, by hand.
    let mut journal = Journal::open(path).unwrap().journal;
    let mut raw = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    let line_no = std::cell::Cell::new(0_u64);
    let mut push = |ts: i64, kind: &str, fields: Value| {
        line_no.set(line_no.get() + 1);
        journal.append(kind, ts, &fields, Durability::Buffered).unwrap()
    };
    // A process start is stamped with the wall clock, not a market event: the series starts at
    // the first record after it.
    push(start_ms, "session", json!({"session_ms": start_ms}));
    let start_equity = match open_equity {
        Some(e) => {
            push(start_ms + HOUR, "day_rollover", json!({"day": "x", "open_equity": e}));
            Decimal::from_str(e).unwrap()
        }
        None => capital,
    };
    let first_market_ms = if open_equity.is_some() { Some(start_ms + HOUR) } else { None };
    let mut written = Written {
        start: (first_market_ms.unwrap_or(i64::MAX), start_equity),
        trades: Vec::new(),
        skipped_lines: Vec::new(),
    };
    let mut t = start_ms + HOUR;
    for i in 0..n {
        t += i64::try_from(rng.next(9) + 1).unwrap() * HOUR + i64::try_from(rng.next(60)).unwrap() * 60_000;
        let cents = i64::try_from(rng.next(18_001)).unwrap() - 8_000;
        let pnl = if i == 5 { Decimal::ZERO } else { Decimal::new(cents, 2) };
        let strategy = strategies[i % strategies.len()];
        push(t, "fill", json!({"symbol": "BTCUSDT", "qty": "0.01", "price": "60000", "fee": "0.3"}));
        written.start.0 = written.start.0.min(t);
        let mut fields = json!({
            "symbol": "BTCUSDT", "side": "long", "entry_time": t - HOUR, "exit_time": t,
            "entry_price": "60000", "exit_price": "60100", "qty": "0.010", "leverage": 5,
            "fees": "0.6", "funding": "0", "pnl": pnl.to_string(), "exit_reason": "take_profit"
        });
        if let Some(s) = strategy {
            fields["strategy"] = json!(s);
        }
        let seq = push(t, "position_closed", fields);
        written.trades.push((t, pnl, strategy.unwrap_or(default)));
        if i % 97 == 50 {
            let broken =
                format!("{{\"seq\":{},\"ts\":{t},\"kind\":\"position_closed\",\"pnl\":12\n", seq + 1);
            raw.write_all(broken.as_bytes()).unwrap();
            line_no.set(line_no.get() + 1);
            written.skipped_lines.push(line_no.get());
        }
    }
    written
}

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().unwrap_or_else(|| panic!("not a decimal string: {v}"))).unwrap()
}

fn series_of(v: &Value) -> Vec<(i64, Decimal)> {
    v.as_array().unwrap().iter().map(|p| (p[0].as_i64().unwrap(), dec(&p[1]))).collect()
}

/// The expected equity series: the start, then the start plus the running sum of P&Ls.
fn expected_series(w: &Written, last: Option<(i64, Decimal)>) -> Vec<(i64, Decimal)> {
    let mut out = vec![w.start];
    let mut equity = w.start.1;
    for (t, pnl, _) in &w.trades {
        equity += pnl;
        out.push((*t, equity));
    }
    out.extend(last);
    out
}

/// Sharpe, Sortino, max drawdown and CAGR of a series whose first point is the start, by DESIGN
/// §12, with plain loops.
fn independent_metrics(series: &[(i64, Decimal)]) -> [Option<f64>; 4] {
    let values: Vec<(i64, f64)> = series.iter().map(|(t, v)| (*t, v.to_f64().unwrap())).collect();
    let start = values[0].1;
    let points = &values[1..];
    let mut day_last: Vec<(i64, f64)> = Vec::new();
    for &(t, v) in points {
        let day = t.div_euclid(DAY);
        match day_last.last_mut() {
            Some(last) if last.0 == day => last.1 = v,
            _ => day_last.push((day, v)),
        }
    }
    let mut closes = vec![start];
    closes.extend(day_last.iter().map(|d| d.1));
    let mut returns = Vec::new();
    for i in 1..closes.len() {
        returns.push(closes[i] / closes[i - 1] - 1.0);
    }
    let n = returns.len() as f64;
    let mean = returns.iter().sum::<f64>() / n;
    let mut squares = 0.0;
    let mut downside = 0.0;
    for r in &returns {
        squares += (r - mean) * (r - mean);
        if *r < 0.0 {
            downside += r * r;
        }
    }
    let std = (squares / (n - 1.0)).sqrt();
    let sharpe = mean / std * 365_f64.sqrt();
    let sortino = mean / (downside / n).sqrt() * 365_f64.sqrt();
    let mut peak = start;
    let mut worst = 0.0_f64;
    for &(_, v) in &values {
        peak = peak.max(v);
        worst = worst.min((v - peak) / peak);
    }
    let years = (points[points.len() - 1].0 - points[0].0) as f64 / (365.0 * DAY as f64);
    let end = points[points.len() - 1].1;
    let cagr = (end / start).powf(1.0 / years) - 1.0;
    [Some(sharpe), Some(sortino), Some(worst), Some(cagr)]
}

fn close(got: &Value, want: Option<f64>, what: &str) {
    let want = want.unwrap();
    let got = got.as_f64().unwrap_or_else(|| panic!("{what}: {got} is not a number"));
    assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{what}: report {got}, independent {want}");
}

/// Checks one figures block against the series and trades the test expects.
fn check_figures(
    figures: &Value,
    series: &[(i64, Decimal)],
    trades: &[(i64, Decimal, &str)],
    as_of: i64,
    who: &str,
) {
    assert_eq!(series_of(&figures["equity_series"]), series, "{who}: equity series");
    let end = series.last().unwrap().1;
    let before = |t: i64| series.iter().take_while(|p| p.0 < t).last().map_or(series[0].1, |p| p.1);
    let today = as_of.div_euclid(DAY) * DAY;
    let day = as_of.div_euclid(DAY);
    let monday = (day - (day + 3).rem_euclid(7)) * DAY;
    assert_eq!(dec(&figures["pnl"]["today"]), end - before(today), "{who}: today");
    assert_eq!(dec(&figures["pnl"]["week"]), end - before(monday), "{who}: week");
    assert_eq!(dec(&figures["pnl"]["overall"]), end - series[0].1, "{who}: overall");
    assert_eq!(dec(&figures["equity"]), end, "{who}: equity");

    let m = &figures["metrics"];
    let [sharpe, sortino, drawdown, cagr] = independent_metrics(series);
    close(&m["sharpe"], sharpe, &format!("{who} sharpe"));
    close(&m["sortino"], sortino, &format!("{who} sortino"));
    close(&m["max_drawdown"], drawdown, &format!("{who} max drawdown"));
    close(&m["cagr"], cagr, &format!("{who} cagr"));

    let mut by_strategy: BTreeMap<&str, Vec<Decimal>> = BTreeMap::new();
    for (_, pnl, s) in trades {
        by_strategy.entry(s).or_default().push(*pnl);
    }
    let all: Vec<Decimal> = trades.iter().map(|t| t.1).collect();
    check_stats(&m["trades"], &all, &format!("{who} trades"));
    let reported = figures["by_strategy"].as_object().unwrap();
    assert_eq!(reported.len(), by_strategy.len(), "{who}: strategies {reported:?}");
    for (name, pnls) in &by_strategy {
        check_stats(&figures["by_strategy"][*name], pnls, &format!("{who} strategy {name}"));
    }
}

/// Trades, win rate, profit factor and expectancy of `pnls`, by hand.
fn check_stats(stats: &Value, pnls: &[Decimal], what: &str) {
    let (mut wins, mut profit, mut loss) = (0, Decimal::ZERO, Decimal::ZERO);
    for p in pnls {
        if *p > Decimal::ZERO {
            wins += 1;
            profit += p;
        } else if *p < Decimal::ZERO {
            loss -= p;
        }
    }
    assert_eq!(stats["trades"].as_u64(), Some(pnls.len() as u64), "{what}");
    close(&stats["win_rate"], Some(f64::from(wins) / pnls.len() as f64), &format!("{what} win rate"));
    close(&stats["profit_factor"], (profit / loss).to_f64(), &format!("{what} profit factor"));
    assert_eq!(dec(&stats["expectancy"]), (profit - loss) / Decimal::from(pnls.len()), "{what} expectancy");
}

/// The sum of the agents' series at every point in time, by brute force.
fn expected_combined(parts: &[&[(i64, Decimal)]]) -> Vec<(i64, Decimal)> {
    let mut times: Vec<i64> = parts.iter().flat_map(|p| p.iter().skip(1).map(|x| x.0)).collect();
    times.sort_unstable();
    times.dedup();
    let value_at = |t: i64| -> Decimal {
        parts.iter().map(|p| p.iter().skip(1).take_while(|x| x.0 <= t).last().map_or(p[0].1, |x| x.1)).sum()
    };
    let start = parts.iter().map(|p| p[0].0).min().unwrap();
    let mut out = vec![(start, parts.iter().map(|p| p[0].1).sum())];
    out.extend(times.into_iter().map(|t| (t, value_at(t))));
    out
}

struct Fixture {
    root: PathBuf,
    futures: Written,
    main: Written,
    snapshot_point: (i64, Decimal),
}

fn generated(name: &str) -> Fixture {
    let root = root(name);
    std::fs::write(root.join("config/futures_agent.toml"), "capital = 7500\n").unwrap();
    std::fs::write(root.join("config/main_agent.toml"), "capital = \"20000\"\n").unwrap();
    let futures = write_journal(
        &root.join("logs/futures_trades.jsonl"),
        &Plan {
            seed: 7,
            n: 400,
            start_ms: D0 + 2 * HOUR,
            open_equity: Some("10000"),
            strategies: &[None],
            default: "momentum",
            capital: Decimal::from(7500),
        },
    );
    let main = write_journal(
        &root.join("logs/main_trades.jsonl"),
        &Plan {
            seed: 11,
            n: 250,
            start_ms: D0 + 30 * HOUR,
            open_equity: None,
            strategies: &[Some("trend"), Some("mean_reversion"), None],
            default: "unknown",
            capital: Decimal::from(20_000),
        },
    );
    let last = futures.trades.last().unwrap();
    let realized: Decimal = futures.start.1 + futures.trades.iter().map(|t| t.1).sum::<Decimal>();
    let snapshot_point = (last.0 + 30 * 60_000, realized + Decimal::new(1234, 2));
    let status = json!({
        "agent": "futures-agent", "pid": 1, "ready": true, "mode": "live", "venue": "sim",
        "started_ms": D0, "last_activity_ms": snapshot_point.0, "equity": snapshot_point.1.to_string(),
        "day_start_equity": "10000", "daily_pnl": "1",
        "positions": [{"symbol": "SOLUSDT", "side": "short", "qty": "3", "entry": "100", "mark": "95.886666",
            "unrealized_pnl": "12.34", "leverage": 3, "liquidation_price": "131.5", "stop_ids": ["fa-sl-9-1"]}],
        "trades_today": 0, "win_rate_today": null, "breaker": {"tripped": false, "tripped_on": null}, "last_error": null
    });
    std::fs::write(root.join("run/futures-agent.status.json"), status.to_string()).unwrap();
    assert!(main.trades.last().unwrap().0 < snapshot_point.0, "the test wants futures-agent to set \"now\"");
    Fixture { root, futures, main, snapshot_point }
}

#[test]
fn the_exported_metrics_match_an_independent_computation() {
    let f = generated("export");
    let out = run(&f.root, &["monitor", "--export", "reports"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let files: Vec<_> =
        std::fs::read_dir(f.root.join("reports")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let name = files[0].file_name().unwrap().to_str().unwrap().to_owned();
    let stamp = name.strip_prefix("dual_agent_report_").and_then(|n| n.strip_suffix(".json")).unwrap();
    assert!(
        stamp.len() == 15
            && stamp.chars().enumerate().all(|(i, c)| if i == 8 { c == '_' } else { c.is_ascii_digit() }),
        "{name}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&name));
    let report: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();

    let as_of = f.snapshot_point.0;
    assert_eq!(report["as_of_ms"].as_i64(), Some(as_of));
    let agents = report["agents"].as_array().unwrap();
    let (main, futures) = (&agents[0], &agents[1]);
    assert_eq!(
        (main["agent"].as_str(), futures["agent"].as_str()),
        (Some("main-agent"), Some("futures-agent"))
    );

    // futures-agent: starts at its first day_rollover (not its capital of 7500); the snapshot's
    // equity is the last point.
    let futures_series = expected_series(&f.futures, Some(f.snapshot_point));
    check_figures(futures, &futures_series, &f.futures.trades, as_of, "futures-agent");
    // main-agent: no rollover, so its capital from config/main_agent.toml; no snapshot.
    let main_series = expected_series(&f.main, None);
    assert_eq!(main_series[0].1, Decimal::from(20_000));
    check_figures(main, &main_series, &f.main.trades, as_of, "main-agent");
    assert_eq!(main["problems"][0].as_str().map(|p| p.starts_with("status file missing")), Some(true));

    for (agent, written) in [(main, &f.main), (futures, &f.futures)] {
        let skipped = &written.skipped_lines;
        assert_eq!(agent["journal"]["skipped_lines"].as_u64(), Some(skipped.len() as u64));
        assert_eq!(agent["journal"]["first_skipped_line"].as_u64(), skipped.first().copied());
    }
    assert_eq!(futures["open_positions"][0]["symbol"], "SOLUSDT");
    assert_eq!(futures["open_positions"][0]["agent"], "futures-agent");

    // Combined: the sum of both series at each time, and every trade of both.
    let combined_series = expected_combined(&[&main_series, &futures_series]);
    let mut all_trades = f.main.trades.clone();
    all_trades.extend(f.futures.trades.iter().copied());
    check_figures(&report["combined"], &combined_series, &all_trades, as_of, "combined");
    let by_agent = &report["combined"]["by_agent"];
    assert_eq!(by_agent["main-agent"]["trades"].as_u64(), Some(250));
    assert_eq!(by_agent["futures-agent"]["trades"].as_u64(), Some(400));
    assert_eq!(report["combined"]["open_positions"].as_array().map(Vec::len), Some(1));
    std::fs::remove_dir_all(&f.root).unwrap();
}

/// Checks that `html` is well-formed XML-style markup: every tag closed in order, void elements
/// self-closed, attribute quotes balanced, text free of raw `<` `>` and bare `&`. Returns the
/// element names in document order.
fn well_formed(html: &str) -> Vec<String> {
    let body = html.strip_prefix("<!DOCTYPE html>").expect("doctype first").trim_start();
    let mut stack: Vec<String> = Vec::new();
    let mut seen = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        check_text(&rest[..open]);
        let close = rest[open..].find('>').expect("unclosed tag") + open;
        let tag = &rest[open + 1..close];
        assert_eq!(tag.matches('"').count() % 2, 0, "unbalanced quotes in <{tag}>");
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "</{name}> closes the wrong element");
        } else {
            let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
            assert!(!name.is_empty(), "bad tag <{tag}>");
            seen.push(name.clone());
            if !tag.ends_with('/') {
                assert!(
                    !["meta", "br", "img", "input", "link"].contains(&name.as_str()),
                    "<{name}> not self-closed"
                );
                stack.push(name);
            }
        }
        rest = &rest[close + 1..];
    }
    check_text(rest);
    assert!(stack.is_empty(), "left open: {stack:?}");
    seen
}

fn check_text(text: &str) {
    assert!(!text.contains('>'), "raw > in text {text:?}");
    for (i, _) in text.match_indices('&') {
        let entity = &text[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"].iter().any(|e| entity.starts_with(e)),
            "bare & in {text:?}"
        );
    }
}

#[test]
fn the_html_report_is_well_formed_and_holds_its_charts() {
    let f = generated("html");
    let out = run(&f.root, &["monitor", "--html", "out/report.html", "--export", "out"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let html = std::fs::read_to_string(f.root.join("out/report.html")).unwrap();
    let elements = well_formed(&html);
    // Three charts (equity, drawdown, daily P&L) for the combined figures and each agent.
    assert_eq!(elements.iter().filter(|e| *e == "svg").count(), 9);
    for (class, label) in [("equity", "equity"), ("drawdown", "drawdown"), ("daily", "daily P&amp;L")] {
        assert_eq!(html.matches(&format!(r#"class="chart {class}""#)).count(), 3, "{class}");
        for who in ["combined", "main-agent", "futures-agent"] {
            assert!(html.contains(&format!("<title>{who}: {label}</title>")), "{who} {label}");
        }
    }
    assert_eq!(elements.iter().filter(|e| *e == "polyline").count(), 3);
    assert_eq!(elements.iter().filter(|e| *e == "polygon").count(), 3);
    // A bar per day with a point: futures-agent's chart and the combined one (which holds every
    // day futures-agent has) have at least one per futures-agent trading day, plus a frame each.
    let futures_days: std::collections::BTreeSet<i64> = f.futures.trades.iter().map(|t| t.0 / DAY).collect();
    assert!(elements.iter().filter(|e| *e == "rect").count() >= 9 + 2 * futures_days.len());
    // Offline: nothing is fetched.
    for external in ["<script", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(external), "{external}");
    }
    // The figures match the JSON export of the same run.
    let json_path = std::fs::read_dir(f.root.join("out"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "json"))
        .unwrap();
    let report: Value = serde_json::from_slice(&std::fs::read(json_path).unwrap()).unwrap();
    let sharpe = report["agents"][1]["metrics"]["sharpe"].as_f64().unwrap();
    assert!(html.contains(&format!("<td>{sharpe:.2}</td>")), "Sharpe {sharpe:.2} not in the HTML");
    std::fs::remove_dir_all(&f.root).unwrap();
}

/// A one-shot HTTP server on loopback: answers 204 to the first request and hands back its
/// request line and body.
fn webhook_server() -> (u16, std::sync::mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header.trim().is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = reader.into_inner();
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .unwrap();
        tx.send((request_line, String::from_utf8(body).unwrap())).unwrap();
    });
    (port, rx)
}

#[test]
fn notify_summary_posts_to_the_discord_webhook_and_never_prints_it() {
    let f = generated("notify");
    let out = run(&f.root, &["notify-summary"]);
    assert_eq!(out.status.code(), Some(2), "without a webhook: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DISCORD_WEBHOOK_URL is not set"));

    let (port, received) = webhook_server();
    let secret = "s3cr3t-w3bh00k-t0k3n";
    // From the root's .env, as a user would set it.
    std::fs::write(
        f.root.join(".env"),
        format!("DISCORD_WEBHOOK_URL=http://127.0.0.1:{port}/api/webhooks/1/{secret}\n"),
    )
    .unwrap();
    let out = run(&f.root, &["notify-summary"]);
    let printed = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{printed}");
    assert!(!printed.contains(secret), "the webhook was printed: {printed}");
    let (request_line, body) = received.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    assert!(request_line.starts_with(&format!("POST /api/webhooks/1/{secret}")), "{request_line}");
    let content = serde_json::from_str::<Value>(&body).unwrap()["content"].as_str().unwrap().to_owned();
    assert!(content.contains("Summary on demand"), "{content}");
    for part in ["combined", "main-agent (stopped)", "futures-agent (stopped)", "equity", "trades"] {
        assert!(content.contains(part), "{part} missing from {content}");
    }
    std::fs::remove_dir_all(&f.root).unwrap();
}

#[test]
fn supervisor_run_sends_the_day_that_ended_once_the_utc_day_changes() {
    use clap::Parser as _;
    use supervisor::monitor::summary::DailySummary;
    use supervisor::monitor::watch::wall_clock_ms;

    let f = generated("daily");
    let (port, received) = webhook_server();
    std::fs::write(
        f.root.join(".env"),
        format!("DISCORD_WEBHOOK_URL=http://127.0.0.1:{port}/api/webhooks/2/t\n"),
    )
    .unwrap();
    let cli = supervisor::Cli::parse_from([
        "supervisor".as_ref(),
        "--root".as_ref(),
        f.root.as_os_str(),
        "--bin-dir".as_ref(),
        f.root.join("bin").as_os_str(),
        "run".as_ref(),
    ]);
    let layout = supervisor::layout(&cli).unwrap();
    let now = wall_clock_ms();
    let mut daily = DailySummary::start(&layout).expect("Discord is configured");
    assert_eq!(daily.tick_at(&layout, now), None, "the day has not changed");
    // Two days on (one day on could still be the day `start` saw, at midnight).
    let later = now + 2 * DAY;
    let period = daily.tick_at(&layout, later).expect("a new day");
    let ended = (later.div_euclid(DAY) - 1) * DAY;
    assert_eq!(period, format!("{} (UTC)", agent_core::time::format_utc_date(ended)));
    assert_eq!(daily.tick_at(&layout, later + 1), None, "sent once a day");
    daily.stop();
    let (_, body) = received.recv_timeout(std::time::Duration::from_secs(10)).unwrap();
    let content = serde_json::from_str::<Value>(&body).unwrap()["content"].as_str().unwrap().to_owned();
    assert!(content.contains(&format!("Summary {period}")), "{content}");
    assert!(content.contains("futures-agent") && content.contains("trades 0"), "{content}");
    std::fs::remove_dir_all(&f.root).unwrap();
}
