//! `supervisor monitor --html PATH`: the report as one self-contained HTML file (inline CSS, SVG
//! charts, no script, nothing fetched), viewable offline. Per agent and combined: the figures
//! table, trade statistics by strategy (and by agent), open positions, and three charts: equity,
//! drawdown (from the running peak, as a negative fraction) and daily P&L bars.
//!
//! The markup is well-formed XML (every element closed, void elements self-closed, text and
//! attributes escaped), so a strict parser reads it too. Long series are thinned for drawing
//! only: each of at most [`MAX_POINTS`] / 2 buckets keeps its lowest and highest point, so peaks
//! and troughs survive.

use std::fmt::Write as _;
use std::path::Path;

use agent_core::time::{format_utc_date, utc_day};
use risk_core::metrics::TradeStats;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::report::{AgentReport, Figures, Report, write_file};
use super::text::{POSITION_HEADER, money, position_cells, rate};
use crate::SupervisorError;

/// Most points drawn per line chart.
pub const MAX_POINTS: usize = 1000;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
/// Left margin for the value labels, and the other margins.
const LEFT: f64 = 70.0;
const PAD: f64 = 12.0;

/// `text` with `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// At most [`MAX_POINTS`] points of `points`, keeping each bucket's lowest and highest.
fn thin(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    if points.len() <= MAX_POINTS {
        return points.to_vec();
    }
    let buckets = MAX_POINTS / 2;
    let size = points.len().div_ceil(buckets);
    let mut out = Vec::with_capacity(MAX_POINTS);
    for chunk in points.chunks(size) {
        let by_value = |a: &&(i64, f64), b: &&(i64, f64)| a.1.total_cmp(&b.1);
        let (Some(low), Some(high)) = (chunk.iter().min_by(by_value), chunk.iter().max_by(by_value)) else {
            continue;
        };
        let (first, second) = if low.0 <= high.0 { (low, high) } else { (high, low) };
        out.push(*first);
        if second != first {
            out.push(*second);
        }
    }
    out
}

/// The drawdown of each point from the running peak, as a negative fraction.
pub fn drawdown_series(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut peak = f64::NEG_INFINITY;
    points
        .iter()
        .map(|(t, v)| {
            peak = peak.max(*v);
            let dd = if peak > 0.0 { (v - peak) / peak } else { 0.0 };
            (*t, dd)
        })
        .collect()
}

/// P&L of each UTC day present in the series: its last value minus the previous day's last
/// value (the first point's value for the first day).
pub fn daily_pnl(series: &[(i64, Decimal)]) -> Vec<(i64, Decimal)> {
    let mut out: Vec<(i64, Decimal)> = Vec::new();
    let Some(first) = series.first() else { return out };
    let mut previous_close = first.1;
    let mut day: Option<(i64, Decimal)> = None;
    for (t, v) in series.iter().skip(1) {
        match &mut day {
            Some((d, last)) if *d == utc_day(*t) => *last = *v,
            _ => {
                if let Some((d, last)) = day.take() {
                    out.push((d, last - previous_close));
                    previous_close = last;
                }
                day = Some((utc_day(*t), *v));
            }
        }
    }
    if let Some((d, last)) = day {
        out.push((d, last - previous_close));
    }
    out
}

/// Scales `(time, value)` into the plot area.
struct Scale {
    t0: f64,
    t1: f64,
    low: f64,
    high: f64,
}

impl Scale {
    fn of(points: &[(i64, f64)], include_zero: bool) -> Self {
        let (mut low, mut high) =
            points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), (_, v)| (l.min(*v), h.max(*v)));
        if include_zero {
            low = low.min(0.0);
            high = high.max(0.0);
        }
        if !(low.is_finite() && high.is_finite()) {
            (low, high) = (0.0, 1.0);
        }
        if high <= low {
            (low, high) = (low - 1.0, high + 1.0);
        }
        #[allow(clippy::cast_precision_loss)]
        let (t0, t1) =
            (points.first().map_or(0.0, |p| p.0 as f64), points.last().map_or(1.0, |p| p.0 as f64));
        Self { t0, t1: if t1 > t0 { t1 } else { t0 + 1.0 }, low, high }
    }

    fn x(&self, t: f64) -> f64 {
        LEFT + (t - self.t0) / (self.t1 - self.t0) * (WIDTH - LEFT - PAD)
    }

    fn y(&self, v: f64) -> f64 {
        PAD + (self.high - v) / (self.high - self.low) * (HEIGHT - 2.0 * PAD)
    }
}

/// The frame, value labels and date labels shared by every chart.
fn axes(out: &mut String, scale: &Scale, low_label: &str, high_label: &str, first: i64, last: i64) {
    let (bottom, right) = (HEIGHT - PAD, WIDTH - PAD);
    let _ = write!(
        out,
        r##"<rect x="{LEFT}" y="{PAD}" width="{w}" height="{h}" fill="none" stroke="#bbb"/><text x="{lx}" y="{hy:.1}" text-anchor="end" class="axis">{hi}</text><text x="{lx}" y="{ly:.1}" text-anchor="end" class="axis">{lo}</text><text x="{LEFT}" y="{dy}" class="axis">{d0}</text><text x="{right}" y="{dy}" text-anchor="end" class="axis">{d1}</text>"##,
        w = WIDTH - LEFT - PAD,
        h = HEIGHT - 2.0 * PAD,
        lx = LEFT - 4.0,
        hy = scale.y(scale.high) + 4.0,
        ly = scale.y(scale.low),
        hi = escape(high_label),
        lo = escape(low_label),
        dy = bottom + PAD - 1.0,
        d0 = format_utc_date(first),
        d1 = format_utc_date(last),
    );
}

fn svg_open(out: &mut String, class: &str, label: &str) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart {class}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{l}"><title>{l}</title>"#,
        l = escape(label)
    );
}

/// An equity line chart.
fn equity_chart(out: &mut String, name: &str, points: &[(i64, f64)]) {
    let drawn = thin(points);
    let scale = Scale::of(&drawn, false);
    svg_open(out, "equity", &format!("{name}: equity"));
    axes(
        out,
        &scale,
        &format!("{:.2}", scale.low),
        &format!("{:.2}", scale.high),
        drawn.first().map_or(0, |p| p.0),
        drawn.last().map_or(0, |p| p.0),
    );
    out.push_str(r##"<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points=""##);
    #[allow(clippy::cast_precision_loss)]
    for (t, v) in &drawn {
        let _ = write!(out, "{:.1},{:.1} ", scale.x(*t as f64), scale.y(*v));
    }
    out.push_str(r#""/></svg>"#);
}

/// A drawdown area chart (0 at the top).
fn drawdown_chart(out: &mut String, name: &str, points: &[(i64, f64)]) {
    let drawn = thin(&drawdown_series(points));
    let scale = Scale::of(&drawn, true);
    svg_open(out, "drawdown", &format!("{name}: drawdown"));
    axes(
        out,
        &scale,
        &format!("{:.1}%", scale.low * 100.0),
        "0%",
        drawn.first().map_or(0, |p| p.0),
        drawn.last().map_or(0, |p| p.0),
    );
    let zero = scale.y(0.0);
    out.push_str(r##"<polygon fill="#f8514966" stroke="#da3633" points=""##);
    #[allow(clippy::cast_precision_loss)]
    if let (Some(first), Some(last)) = (drawn.first(), drawn.last()) {
        let _ = write!(out, "{:.1},{zero:.1} ", scale.x(first.0 as f64));
        for (t, v) in &drawn {
            let _ = write!(out, "{:.1},{:.1} ", scale.x(*t as f64), scale.y(*v));
        }
        let _ = write!(out, "{:.1},{zero:.1}", scale.x(last.0 as f64));
    }
    out.push_str(r#""/></svg>"#);
}

/// Daily P&L bars, green up and red down.
fn daily_chart(out: &mut String, name: &str, series: &[(i64, Decimal)]) {
    let days = daily_pnl(series);
    let day_ms = agent_core::time::DAY_MS;
    let points: Vec<(i64, f64)> = days.iter().map(|(d, p)| (d * day_ms, p.to_f64().unwrap_or(0.0))).collect();
    let mut scale = Scale::of(&points, true);
    #[allow(clippy::cast_precision_loss)]
    if let Some(last) = points.last() {
        scale.t1 = (last.0 + day_ms) as f64;
    }
    svg_open(out, "daily", &format!("{name}: daily P&L"));
    axes(
        out,
        &scale,
        &format!("{:.2}", scale.low),
        &format!("{:.2}", scale.high),
        points.first().map_or(0, |p| p.0),
        points.last().map_or(0, |p| p.0),
    );
    #[allow(clippy::cast_precision_loss)]
    let bar = (scale.x(day_ms as f64 + scale.t0) - scale.x(scale.t0)).max(0.5);
    let zero = scale.y(0.0);
    for (t, v) in &points {
        let (top, height) =
            if *v >= 0.0 { (scale.y(*v), zero - scale.y(*v)) } else { (zero, scale.y(*v) - zero) };
        let color = if *v >= 0.0 { "#2da44e" } else { "#cf222e" };
        #[allow(clippy::cast_precision_loss)]
        let _ = write!(
            out,
            r#"<rect x="{:.2}" y="{top:.1}" width="{:.2}" height="{:.1}" fill="{color}"/>"#,
            scale.x(*t as f64),
            (bar * 0.8).max(0.5),
            height.max(0.5)
        );
    }
    let _ = write!(
        out,
        r##"<line x1="{LEFT}" x2="{}" y1="{zero:.1}" y2="{zero:.1}" stroke="#888"/>"##,
        WIDTH - PAD
    );
    out.push_str("</svg>");
}

fn opt(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "-".to_owned(), |v| format!("{v:.digits$}"))
}

fn stats_rows(out: &mut String, rows: &[(String, &TradeStats)]) {
    out.push_str("<table><tr><th>name</th><th>trades</th><th>win rate</th><th>profit factor</th><th>expectancy</th><th>gross profit</th><th>gross loss</th></tr>");
    for (name, s) in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(name),
            s.trades,
            rate(s.win_rate),
            opt(s.profit_factor, 2),
            s.expectancy.map_or_else(|| "-".to_owned(), money),
            money(s.gross_profit),
            money(-s.gross_loss),
        );
    }
    out.push_str("</table>");
}

/// One section: the figures, statistics, positions and charts of an agent or of both.
fn section(out: &mut String, name: &str, figures: &Figures, agent: Option<&AgentReport>) {
    let m = &figures.metrics;
    let _ = write!(out, r#"<section><h2>{}</h2>"#, escape(name));
    if let Some(a) = agent {
        let _ = write!(out, "<p>state: <b>{}</b>; journal: {} lines", escape(a.state), a.journal.lines);
        if a.journal.skipped_lines > 0 {
            let _ = write!(out, ", {} skipped", a.journal.skipped_lines);
        }
        out.push_str("</p>");
        if !a.problems.is_empty() {
            out.push_str(r#"<ul class="problems">"#);
            for p in &a.problems {
                let _ = write!(out, "<li>{}</li>", escape(p));
            }
            out.push_str("</ul>");
        }
    }
    let _ = write!(
        out,
        "<table><tr><th>starting equity</th><th>equity</th><th>P&amp;L today</th><th>this week</th><th>overall</th><th>trades</th><th>win rate</th><th>profit factor</th><th>expectancy</th><th>Sharpe</th><th>Sortino</th><th>max drawdown</th><th>CAGR</th></tr><tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}%</td><td>{}</td></tr></table>",
        money(figures.starting_equity).trim_start_matches('+'),
        money(figures.equity).trim_start_matches('+'),
        money(figures.pnl.today),
        money(figures.pnl.week),
        money(figures.pnl.overall),
        m.trades.trades,
        rate(m.trades.win_rate),
        opt(m.trades.profit_factor, 2),
        m.trades.expectancy.map_or_else(|| "-".to_owned(), money),
        opt(m.sharpe, 2),
        opt(m.sortino, 2),
        m.max_drawdown * 100.0,
        m.cagr.map_or_else(|| "-".to_owned(), |c| format!("{:.2}%", c * 100.0)),
    );
    let mut rows: Vec<(String, &TradeStats)> =
        figures.by_strategy.iter().map(|(k, v)| (k.clone(), v)).collect();
    if let Some(by_agent) = &figures.by_agent {
        rows.extend(by_agent.iter().map(|(k, v)| (format!("agent {k}"), v)));
    }
    if !rows.is_empty() {
        stats_rows(out, &rows);
    }
    if figures.open_positions.is_empty() {
        out.push_str("<p>no open positions</p>");
    } else {
        out.push_str("<table><tr><th>agent</th>");
        for h in POSITION_HEADER {
            let _ = write!(out, "<th>{}</th>", escape(h));
        }
        out.push_str("</tr>");
        for p in &figures.open_positions {
            let _ = write!(out, "<tr><td>{}</td>", escape(p.agent));
            for cell in position_cells(&p.position) {
                let _ = write!(out, "<td>{}</td>", escape(&cell));
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    let points: Vec<(i64, f64)> =
        figures.equity_series.iter().map(|(t, v)| (*t, v.to_f64().unwrap_or(f64::NAN))).collect();
    out.push_str(r#"<div class="charts">"#);
    equity_chart(out, name, &points);
    drawdown_chart(out, name, &points);
    daily_chart(out, name, &figures.equity_series);
    out.push_str("</div></section>");
}

/// The report as an HTML document.
pub fn render(report: &Report) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"/><title>dual-agent report {gen}</title><style>
body{{font-family:system-ui,sans-serif;margin:1.5em;color:#222}} table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}} th{{background:#f4f4f4}}
.axis{{font-size:11px;fill:#555}} .problems{{color:#b00}} .chart{{display:block;margin:.4em 0}}
</style></head><body><h1>dual-agent report</h1><p>generated {gen}; figures as of {asof} UTC (latest event recorded)</p>"#,
        gen = escape(&report.generated_at),
        asof = escape(&report.as_of),
    );
    section(&mut out, "combined", &report.combined, None);
    for agent in &report.agents {
        section(&mut out, agent.agent, &agent.figures, Some(agent));
    }
    out.push_str("</body></html>\n");
    out
}

/// Writes the report as HTML to `path`.
///
/// # Errors
/// `Runtime` naming the file when it cannot be written.
pub fn write_html(report: &Report, path: &Path) -> Result<(), SupervisorError> {
    let html = render(report);
    write_file(path, |out| std::io::Write::write_all(out, html.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const DAY: i64 = 86_400_000;

    #[test]
    fn daily_pnl_is_the_change_of_each_days_last_value() {
        let series = [
            (0, dec!(100)),
            (10, dec!(105)),
            (DAY + 5, dec!(103)),
            (DAY + 9, dec!(101)),
            (3 * DAY, dec!(110)),
        ];
        assert_eq!(daily_pnl(&series), vec![(0, dec!(5)), (1, dec!(-4)), (3, dec!(9))]);
        assert!(daily_pnl(&[]).is_empty());
    }

    #[test]
    fn thinning_keeps_the_extremes() {
        let points: Vec<(i64, f64)> =
            (0..10_000).map(|i| (i, if i == 7_777 { -50.0 } else { (i % 13) as f64 })).collect();
        let thinned = thin(&points);
        assert!(thinned.len() <= MAX_POINTS);
        assert!(thinned.contains(&(7_777, -50.0)));
        assert!(thinned.windows(2).all(|w| w[0].0 < w[1].0));
        let dd = drawdown_series(&[(0, 100.0), (1, 80.0), (2, 120.0), (3, 90.0)]);
        assert_eq!(dd.iter().map(|p| p.1).collect::<Vec<_>>(), vec![0.0, -0.2, 0.0, -0.25]);
        assert_eq!(escape(r#"<a href="x">&'"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
