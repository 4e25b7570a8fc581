//! The terminal dashboard of `supervisor monitor --watch` (ratatui): a header with the combined
//! figures, then one panel per agent with its state, P&L, trades and win rates, last activity,
//! breaker, what is wrong with its files, its open positions and an equity sparkline.
//!
//! [`render`] draws one frame from a refreshed [`Monitor`] (tests draw it on ratatui's
//! `TestBackend`); [`run`] owns the terminal: it refreshes every interval, redraws on resize,
//! and quits on `q`, Esc or Ctrl-C, restoring the terminal.

use std::io;
use std::time::{Duration, Instant};

use ratatui::Frame;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Sparkline, Table};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::figures::{Quick, Series};
use super::text::{
    POSITION_HEADER, amount, breaker_text, last_activity, money, position_cells, rate, state_text,
};
use super::watch::{AgentWatch, Monitor};

/// Lines of the equity sparkline.
const SPARK_HEIGHT: u16 = 3;

fn pnl_style(value: Decimal) -> Style {
    match value.round_dp(2) {
        v if v > Decimal::ZERO => Style::new().fg(Color::Green),
        v if v < Decimal::ZERO => Style::new().fg(Color::Red),
        _ => Style::new(),
    }
}

fn state_style(agent: &AgentWatch) -> Style {
    match agent.state() {
        "running" => Style::new().fg(Color::Green).add_modifier(Modifier::BOLD),
        "stale" => Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
        _ => Style::new().fg(Color::Yellow),
    }
}

/// Draws the whole dashboard.
pub fn render(frame: &mut Frame<'_>, monitor: &Monitor) {
    let now = monitor.as_of_ms();
    let quick: Vec<Quick> = monitor.agents.iter().map(|a| Quick::of(a, now)).collect();
    let heights: Vec<Constraint> = std::iter::once(Constraint::Length(2))
        .chain(monitor.agents.iter().map(|a| Constraint::Length(panel_height(a))))
        .chain([Constraint::Min(0)])
        .collect();
    let areas = Layout::vertical(heights).split(frame.area());
    render_header(frame, areas[0], monitor, &quick, now);
    for (i, (agent, q)) in monitor.agents.iter().zip(&quick).enumerate() {
        render_agent(frame, areas[i + 1], agent, q, now);
    }
}

fn render_header(frame: &mut Frame<'_>, area: Rect, monitor: &Monitor, quick: &[Quick], now: i64) {
    let with_data = || monitor.agents.iter().zip(quick).filter(|(a, _)| a.has_data()).map(|(_, q)| q);
    let today: Decimal = with_data().map(|q| q.pnl_today).sum();
    let overall: Decimal = with_data().map(|q| q.pnl_overall).sum();
    let title = Line::from(vec![
        Span::styled("dual-agent monitor", Style::new().add_modifier(Modifier::BOLD)),
        Span::raw(format!("   as of {} UTC", agent_core::time::format_utc_minute(now))),
        Span::styled("   q quits", Style::new().fg(Color::DarkGray)),
    ]);
    let combined = Line::from(vec![
        Span::raw(format!("combined: equity {}   P&L today ", amount(with_data().map(|q| q.equity).sum()))),
        Span::styled(money(today), pnl_style(today)),
        Span::raw("   overall "),
        Span::styled(money(overall), pnl_style(overall)),
    ]);
    frame.render_widget(Paragraph::new(vec![title, combined]), area);
}

/// Rows an agent's panel needs: borders, two figure lines, its problems, the positions table
/// (or its "none" line) and the sparkline.
fn panel_height(agent: &AgentWatch) -> u16 {
    let positions = agent.status.snapshot().map_or(0, |s| s.positions.len());
    let table = if positions == 0 { 1 } else { positions + 1 };
    let rows = 2 + 2 + agent.problems().len() + table + usize::from(SPARK_HEIGHT);
    u16::try_from(rows).unwrap_or(u16::MAX)
}

fn render_agent(frame: &mut Frame<'_>, area: Rect, agent: &AgentWatch, q: &Quick, now: i64) {
    let title = Line::from(vec![
        Span::styled(format!(" {} ", agent.source.name), Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(format!("{} ", state_text(agent)), state_style(agent)),
    ]);
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let problems = agent.problems();
    let positions = agent.status.snapshot().map(|s| s.positions.as_slice()).unwrap_or_default();
    let table_rows = if positions.is_empty() { 1 } else { positions.len() + 1 };
    let parts = Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(u16::try_from(problems.len()).unwrap_or(u16::MAX)),
        Constraint::Length(u16::try_from(table_rows).unwrap_or(u16::MAX)),
        Constraint::Length(SPARK_HEIGHT),
    ])
    .split(inner);
    let breaker = breaker_text(agent, now);
    let breaker_style = if breaker.starts_with("TRIPPED") {
        Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
    } else {
        Style::new()
    };
    let figures = vec![
        Line::from(vec![
            Span::raw(format!("equity {}   P&L today ", amount(q.equity))),
            Span::styled(money(q.pnl_today), pnl_style(q.pnl_today)),
            Span::raw("   overall "),
            Span::styled(money(q.pnl_overall), pnl_style(q.pnl_overall)),
            Span::raw("   breaker "),
            Span::styled(breaker, breaker_style),
        ]),
        Line::from(format!(
            "trades today {} (win {})   overall {} (win {})   last activity {}",
            q.trades_today,
            rate(q.win_rate_today),
            q.trades,
            rate(q.win_rate),
            last_activity(agent)
        )),
    ];
    frame.render_widget(Paragraph::new(figures), parts[0]);
    let warn = Style::new().fg(Color::Red);
    let problem_lines: Vec<Line<'_>> =
        problems.into_iter().map(|p| Line::styled(format!("! {p}"), warn)).collect();
    frame.render_widget(Paragraph::new(problem_lines), parts[1]);
    if positions.is_empty() {
        frame.render_widget(Paragraph::new("no open positions"), parts[2]);
    } else {
        let rows = positions.iter().map(|p| {
            let cells = position_cells(p);
            let style = if p.stop_ids.is_empty() { warn } else { pnl_style(p.unrealized_pnl) };
            Row::new(cells).style(style)
        });
        let widths = [10, 5, 10, 11, 11, 10, 4, 11, 24].map(Constraint::Length);
        let header = Row::new(POSITION_HEADER).style(Style::new().add_modifier(Modifier::BOLD));
        frame.render_widget(Table::new(rows, widths).header(header), parts[2]);
    }
    let spark_area = parts[3];
    let series = Series::of(agent, now);
    let data = sample(&series, usize::from(spark_area.width));
    let spark = Sparkline::default().data(data).max(SPARK_MAX).style(Style::new().fg(Color::Cyan));
    frame.render_widget(spark, spark_area);
}

/// The top of the sparkline scale.
const SPARK_MAX: u64 = 1000;

/// `width` evenly spaced points of the series (a short series is stretched: each point held
/// over several columns), scaled between the lowest and highest sampled value to
/// `1..=SPARK_MAX` (a flat series sits in the middle).
pub fn sample(series: &Series<'_>, width: usize) -> Vec<u64> {
    let last = series.len() - 1;
    let values: Vec<f64> = (0..width)
        .map(|i| {
            let index = if width == 1 { last } else { i * last / (width - 1) };
            series.get(index).1.to_f64().unwrap_or(0.0)
        })
        .collect();
    let (low, high) =
        values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
    values
        .iter()
        .map(|v| {
            let share = if high > low { (v - low) / (high - low) } else { 0.5 };
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let bar = (share * (SPARK_MAX - 1) as f64).round() as u64 + 1;
            bar
        })
        .collect()
}

/// Runs the dashboard in this terminal until `q`: refreshes every `interval`.
///
/// # Errors
/// When the terminal cannot be set up or drawn on; it is restored either way.
pub fn run(monitor: &mut Monitor, interval: Duration) -> io::Result<()> {
    let mut terminal = ratatui::try_init()?;
    let result = (|| {
        loop {
            monitor.refresh();
            terminal.draw(|frame| render(frame, monitor))?;
            let next = Instant::now() + interval;
            loop {
                let left = next.saturating_duration_since(Instant::now());
                if left.is_zero() || !event::poll(left)? {
                    break;
                }
                match event::read()? {
                    Event::Key(key) if key.kind == KeyEventKind::Press => {
                        let ctrl_c =
                            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
                        if matches!(key.code, KeyCode::Char('q' | 'Q') | KeyCode::Esc) || ctrl_c {
                            return Ok(());
                        }
                    }
                    Event::Resize(..) => {
                        terminal.draw(|frame| render(frame, monitor))?;
                    }
                    _ => {}
                }
            }
        }
    })();
    ratatui::restore();
    result
}
