//! The monitor's views from fixture files in temp dirs (no agent runs): the dashboard drawn on
//! ratatui's test backend, read back as the characters a user sees; missing and corrupt files
//! shown as such; the journal read incrementally; and the plain-text snapshot printed by the
//! real binary, once and every interval when stdout is a pipe.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod monitor_support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use agent_core::pidfile::PidFile;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use rust_decimal_macros::dec;
use supervisor::monitor::dashboard;
use supervisor::monitor::figures::Quick;
use supervisor::monitor::text;
use supervisor::monitor::watch::Monitor;

use monitor_support::{root, sources, supervisor};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/monitor").join(name)
}

fn copy(name: &str, to: &Path) {
    std::fs::copy(fixture(name), to).unwrap();
}

/// Both journals and futures-agent's snapshot in place.
fn with_fixtures(root: &Path) {
    copy("futures_trades.jsonl", &root.join("logs/futures_trades.jsonl"));
    copy("main_trades.jsonl", &root.join("logs/main_trades.jsonl"));
    copy("futures-agent.status.json", &root.join("run/futures-agent.status.json"));
}

/// The dashboard as text: one line per terminal row.
fn screen(monitor: &Monitor, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| dashboard::render(frame, monitor)).unwrap();
    let buffer = terminal.backend().buffer();
    let mut out = String::new();
    for row in buffer.content().chunks(usize::from(width)) {
        for cell in row {
            out.push_str(cell.symbol());
        }
        out.push('\n');
    }
    out
}

/// The row of `screen` holding `needle`.
fn row_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle:?} in\n{screen}"))
}

#[test]
fn the_dashboard_shows_each_agent_its_figures_positions_and_problems() {
    let root = root("dashboard");
    with_fixtures(&root);
    // futures-agent holds its PID file (this test process stands in for it); main-agent has none.
    let _pid = PidFile::acquire(&root.join("run/futures-agent.pid")).unwrap();
    let mut monitor = Monitor::new(sources(&root));
    monitor.refresh();
    let screen = screen(&monitor, 150, 48);

    assert!(screen.contains("as of 2024-03-04 10:30 UTC"), "{screen}");
    // Combined: equity 10032.50 + 10170.75; today +12.50 + 90.50; overall +32.50 + 170.75.
    let combined = row_with(&screen, "combined:");
    assert!(combined.contains("equity 20,203.25"), "{combined}");
    assert!(combined.contains("P&L today +103.00") && combined.contains("overall +203.25"), "{combined}");

    let title = row_with(&screen, " futures-agent ");
    assert!(title.contains(&format!("running (PID {})", std::process::id())), "{title}");
    let figures = row_with(&screen, "equity 10,170.75");
    assert!(figures.contains("P&L today +90.50") && figures.contains("overall +170.75"), "{figures}");
    assert!(figures.contains("breaker ok"), "{figures}");
    let trades = row_with(&screen, "last activity 2024-03-04 10:30 UTC");
    assert!(
        trades.contains("trades today 3 (win 66.7%)") && trades.contains("overall 5 (win 60.0%)"),
        "{trades}"
    );
    assert!(screen.contains("journal: 1 line that does not parse skipped (first: line 4)"), "{screen}");

    let header = row_with(&screen, "SYMBOL");
    for column in ["SIDE", "QTY", "ENTRY", "MARK", "uPnL", "LEV", "LIQ", "STOP"] {
        assert!(header.contains(column), "{header}");
    }
    let btc = row_with(&screen, "BTCUSDT");
    for cell in ["long", "0.010", "60000", "61550", "+15.50", "10x", "54271.35", "fa-sl-7-1,fa-tp-7-2"] {
        assert!(btc.contains(cell), "{cell} missing from {btc}");
    }
    // A position without a protective order says so.
    let eth = row_with(&screen, "ETHUSDT");
    assert!(eth.contains("short") && eth.contains("5x") && eth.contains("NONE"), "{eth}");

    let main = row_with(&screen, " main-agent ");
    assert!(main.contains("stopped"), "{main}");
    let main_figures = row_with(&screen, "equity 10,032.50");
    assert!(
        main_figures.contains("P&L today +12.50") && main_figures.contains("breaker unknown"),
        "{main_figures}"
    );
    assert!(row_with(&screen, "trades today 1 (win 100.0%)").contains("overall 3 (win 66.7%)"), "{screen}");
    assert!(screen.contains("! status file missing"), "{screen}");
    assert!(screen.contains("no open positions"), "{screen}");
    // The sparklines are drawn (block characters below each panel's figures).
    assert!(screen.matches(|c| ('▁'..='█').contains(&c)).count() > 20, "{screen}");
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn missing_and_corrupt_files_are_shown_and_nothing_crashes() {
    let root = root("broken");
    copy("corrupt.status.json", &root.join("run/futures-agent.status.json"));
    // main-agent's journal is a directory: it exists but cannot be read as a file.
    std::fs::create_dir_all(root.join("logs/main_trades.jsonl")).unwrap();
    // A stale PID file: no process holds its lock.
    std::fs::write(root.join("run/main-agent.pid"), "999999\n").unwrap();
    let mut monitor = Monitor::new(sources(&root));
    monitor.refresh();
    let screen = screen(&monitor, 160, 40);
    assert!(row_with(&screen, " main-agent ").contains("stale (PID 999999 is gone)"), "{screen}");
    assert!(screen.contains("! status file corrupt"), "{screen}");
    assert!(screen.contains("! journal missing"), "{screen}");
    assert!(screen.contains("! journal unreadable"), "{screen}");
    assert!(screen.contains("! status file missing"), "{screen}");
    let snapshot = text::snapshot(&monitor);
    assert!(
        snapshot.contains("status file corrupt") && snapshot.contains("journal unreadable"),
        "{snapshot}"
    );
    let report = supervisor::monitor::report::Report::build(&monitor, 0);
    assert!(report.agents.iter().all(|a| !a.problems.is_empty()));
    assert_eq!(report.combined.metrics.trades.trades, 0);
    // Tiny terminals still draw.
    let _ = self::screen(&monitor, 20, 5);
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_status_file_without_its_journal_still_gives_the_equity() {
    let root = root("status-only");
    copy("futures-agent.status.json", &root.join("run/futures-agent.status.json"));
    // main-agent's last event comes after futures-agent's snapshot: "now" is later than it.
    let later = r#"{"seq":1,"ts":1709600000000,"kind":"position_closed","pnl":"1"}"#;
    std::fs::write(root.join("logs/main_trades.jsonl"), format!("{later}\n")).unwrap();
    let mut monitor = Monitor::new(sources(&root));
    monitor.refresh();
    let now = monitor.as_of_ms();
    assert_eq!(now, 1_709_600_000_000);
    let futures = Quick::of(&monitor.agents[1], now);
    assert_eq!((futures.equity, futures.pnl_overall, futures.trades), (dec!(10170.75), dec!(170.75), 0));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_journal_is_read_incrementally_and_again_after_truncation() {
    let root = root("incremental");
    let journal = root.join("logs/futures_trades.jsonl");
    let line = |seq: u64, ts: i64, pnl: &str| {
        format!(r#"{{"seq":{seq},"ts":{ts},"kind":"position_closed","symbol":"BTCUSDT","pnl":"{pnl}"}}"#)
    };
    std::fs::write(&journal, format!("{}\n{}\n", line(1, 1_000, "10"), line(2, 2_000, "-4"))).unwrap();
    let mut monitor = Monitor::new(sources(&root));
    monitor.refresh();
    let futures = || 1;
    let quick = |m: &Monitor| Quick::of(&m.agents[futures()], 10_000);
    assert_eq!((quick(&monitor).trades, quick(&monitor).equity), (2, dec!(10006)));

    // Appended: a complete line and half of the next one (the agent is writing it).
    let half = line(4, 4_000, "100");
    let (first, rest) = half.split_at(30);
    let mut appended = std::fs::OpenOptions::new().append(true).open(&journal).unwrap();
    std::io::Write::write_all(&mut appended, format!("{}\n{first}", line(3, 3_000, "1.5")).as_bytes())
        .unwrap();
    monitor.refresh();
    assert_eq!((quick(&monitor).trades, quick(&monitor).equity), (3, dec!(10007.5)));
    assert_eq!(monitor.agents[futures()].journal.partial_bytes(), 30);
    std::io::Write::write_all(&mut appended, format!("{rest}\n").as_bytes()).unwrap();
    monitor.refresh();
    assert_eq!((quick(&monitor).trades, quick(&monitor).equity), (4, dec!(10107.5)));
    assert_eq!(monitor.agents[futures()].journal.skipped().0, 0);

    // Truncated and rewritten shorter: read again from the start.
    std::fs::write(&journal, format!("{}\n", line(1, 1_000, "-1"))).unwrap();
    monitor.refresh();
    assert_eq!((quick(&monitor).trades, quick(&monitor).equity), (1, dec!(9999)));
    // Replaced by another file of the same size (rotation): read again too.
    let replacement = root.join("logs/new.jsonl");
    std::fs::write(&replacement, format!("{}\n", line(1, 1_000, "2"))).unwrap();
    std::fs::rename(&replacement, &journal).unwrap();
    monitor.refresh();
    assert_eq!((quick(&monitor).trades, quick(&monitor).equity), (1, dec!(10002)));
    // Gone: shown as missing, the old figures forgotten.
    std::fs::remove_file(&journal).unwrap();
    monitor.refresh();
    assert_eq!(quick(&monitor).trades, 0);
    assert!(monitor.agents[futures()].problems().iter().any(|p| p.starts_with("journal missing")));
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_binary_prints_a_snapshot_once_or_every_interval_without_a_terminal() {
    let root = root("binary");
    with_fixtures(&root);
    let out = supervisor(&root).arg("monitor").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("dual-agent monitor, as of 2024-03-04 10:30 UTC\n"), "{text}");
    assert!(text.contains("combined: equity 20,203.25  P&L today +103.00  overall +203.25"), "{text}");
    assert!(text.contains("futures-agent: stopped"), "{text}");
    assert!(text.contains("  trades today 3 (win 66.7%)  overall 5 (win 60.0%)"), "{text}");
    assert!(
        text.lines().any(|l| l.trim_start().starts_with("ETHUSDT") && l.trim_end().ends_with("NONE")),
        "{text}"
    );
    assert!(text.contains("  ! status file missing"), "{text}");

    // --watch into a pipe: a snapshot per interval, until stopped.
    let mut child = supervisor(&root)
        .args(["monitor", "--watch", "--interval", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut snapshots = 0;
    while snapshots < 2 {
        assert!(Instant::now() < deadline, "no second snapshot within 20 s");
        let line = lines.next().expect("output ended").unwrap();
        snapshots += usize::from(line.starts_with("dual-agent monitor, as of"));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    // Usage errors: --interval without --watch, --watch with --export.
    for args in [&["monitor", "--interval", "5"][..], &["monitor", "--watch", "--export"]] {
        let out = supervisor(&root).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    std::fs::remove_dir_all(&root).unwrap();
}
