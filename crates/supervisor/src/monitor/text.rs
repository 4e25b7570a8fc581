//! The plain-text snapshot (`supervisor monitor` without `--watch`, or `--watch` when stdout is
//! not a terminal), and the cell formatting the dashboard shares with it: money with two
//! decimals and a sign, win rates, the breaker, a position's row.

use std::fmt::Write as _;

use agent_core::pidfile::Liveness;
use agent_core::status::PositionStatus;
use agent_core::time::{format_utc_date, format_utc_minute};
use rust_decimal::{Decimal, RoundingStrategy};

use super::figures::Quick;
use super::watch::{AgentWatch, Monitor};

/// Column headers of the positions table.
pub const POSITION_HEADER: [&str; 9] =
    ["SYMBOL", "SIDE", "QTY", "ENTRY", "MARK", "uPnL", "LEV", "LIQ", "STOP"];

/// `value` to the cent, halves away from zero.
fn cents(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// `+12.34`, `-0.50`: money rounded to the cent, signed.
pub fn money(value: Decimal) -> String {
    let rounded = cents(value);
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() { "-" } else { "+" };
    format!("{sign}{:.2}", rounded.abs())
}

/// `12,345.67`: an amount to the cent with thousands separators.
pub fn amount(value: Decimal) -> String {
    let rounded = cents(value);
    let text = format!("{:.2}", rounded.abs());
    let (whole, cents) = text.split_once('.').unwrap_or((&text, "00"));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if rounded.is_sign_negative() && !rounded.is_zero() { "-" } else { "" };
    format!("{sign}{grouped}.{cents}")
}

/// `55.0%`, or `-` without trades.
pub fn rate(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// `running (PID 42)`, `stale (PID 42 is gone)`, `stopped`.
pub fn state_text(agent: &AgentWatch) -> String {
    match agent.liveness {
        Liveness::Running(pid) => format!("running (PID {pid})"),
        Liveness::Stale(Some(pid)) => format!("stale (PID {pid} is gone)"),
        Liveness::Stale(None) => "stale".to_owned(),
        Liveness::Stopped => "stopped".to_owned(),
    }
}

/// The breaker as the status snapshot says it, else as the journal's last trip says for today.
pub fn breaker_text(agent: &AgentWatch, now_ms: i64) -> String {
    match agent.status.snapshot() {
        Some(s) if s.breaker.tripped => {
            format!(
                "TRIPPED{}",
                s.breaker.tripped_on.as_ref().map(|d| format!(" on {d}")).unwrap_or_default()
            )
        }
        Some(_) => "ok".to_owned(),
        None => match &agent.journal.ledger.breaker {
            Some((_, day)) if *day == format_utc_date(now_ms) => format!("TRIPPED on {day} (journal)"),
            _ => "unknown (no status)".to_owned(),
        },
    }
}

/// Last activity, `YYYY-MM-DD HH:MM UTC`, or `-`.
pub fn last_activity(agent: &AgentWatch) -> String {
    agent.last_event_ms().map_or_else(|| "-".to_owned(), |ms| format!("{} UTC", format_utc_minute(ms)))
}

/// One position's cells, in [`POSITION_HEADER`] order, numbers as the agent wrote them. A
/// position without a protective order says `NONE` in the stop column.
pub fn position_cells(p: &PositionStatus) -> [String; 9] {
    let stop = if p.stop_ids.is_empty() { "NONE".to_owned() } else { p.stop_ids.join(",") };
    [
        p.symbol.to_string(),
        format!("{:?}", p.side).to_lowercase(),
        p.qty.get().to_string(),
        p.entry.to_string(),
        p.mark.to_string(),
        money(p.unrealized_pnl),
        format!("{}x", p.leverage),
        p.liquidation_price.map_or_else(|| "-".to_owned(), |l| l.to_string()),
        stop,
    ]
}

/// Lines of a table, columns padded to their widest cell.
fn table_lines(header: &[&str], rows: &[[String; 9]], indent: &str) -> Vec<String> {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].len()).chain([header[i].len()]).max().unwrap_or(0))
        .collect();
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells.iter().zip(&widths).map(|(c, w)| format!("{c:<w$}")).collect();
        format!("{indent}{}", padded.join("  ").trim_end())
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(rows.iter().map(|r| line(r.iter().map(String::as_str).collect())));
    out
}

/// The snapshot of every agent as plain text.
pub fn snapshot(monitor: &Monitor) -> String {
    let now = monitor.as_of_ms();
    let quick: Vec<Quick> = monitor.agents.iter().map(|a| Quick::of(a, now)).collect();
    let with_data = || monitor.agents.iter().zip(&quick).filter(|(a, _)| a.has_data()).map(|(_, q)| q);
    let mut out = String::new();
    let _ = writeln!(out, "dual-agent monitor, as of {} UTC", format_utc_minute(now));
    let _ = writeln!(
        out,
        "combined: equity {}  P&L today {}  overall {}",
        amount(with_data().map(|q| q.equity).sum()),
        money(with_data().map(|q| q.pnl_today).sum()),
        money(with_data().map(|q| q.pnl_overall).sum()),
    );
    for (agent, q) in monitor.agents.iter().zip(&quick) {
        out.push('\n');
        let _ = writeln!(
            out,
            "{}: {}  last activity {}  breaker {}",
            agent.source.name,
            state_text(agent),
            last_activity(agent),
            breaker_text(agent, now)
        );
        let _ = writeln!(
            out,
            "  equity {}  P&L today {}  overall {}",
            amount(q.equity),
            money(q.pnl_today),
            money(q.pnl_overall)
        );
        let _ = writeln!(
            out,
            "  trades today {} (win {})  overall {} (win {})",
            q.trades_today,
            rate(q.win_rate_today),
            q.trades,
            rate(q.win_rate)
        );
        let positions = agent.status.snapshot().map(|s| s.positions.as_slice()).unwrap_or_default();
        if positions.is_empty() {
            let _ = writeln!(out, "  no open positions");
        } else {
            let rows: Vec<[String; 9]> = positions.iter().map(position_cells).collect();
            for line in table_lines(&POSITION_HEADER, &rows, "  ") {
                let _ = writeln!(out, "{line}");
            }
        }
        for problem in agent.problems() {
            let _ = writeln!(out, "  ! {problem}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn money_is_signed_and_rounded_to_the_cent() {
        let cases = [
            (dec!(12.345), "+12.35", "12.35"),
            (dec!(-0.5), "-0.50", "-0.50"),
            (dec!(-0.001), "+0.00", "0.00"),
            (dec!(0), "+0.00", "0.00"),
            (dec!(1234567.891), "+1234567.89", "1,234,567.89"),
            (dec!(-1000), "-1000.00", "-1,000.00"),
            (dec!(100), "+100.00", "100.00"),
        ];
        for (value, signed, grouped) in cases {
            assert_eq!(money(value), signed, "{value}");
            assert_eq!(amount(value), grouped, "{value}");
        }
        assert_eq!(rate(Some(2.0 / 3.0)), "66.7%");
        assert_eq!(rate(None), "-");
    }
}
