//! Performance summaries to Discord (DESIGN §13), through the notify crate: on demand
//! (`supervisor notify-summary`: today so far) and daily at 00:00 UTC from `supervisor run`
//! ([`DailySummary`]: the UTC day that just ended, by the wall clock).
//!
//! One message per summary: the combined figures, then each agent's, each rendered by
//! `notify::Event::Summary` (equity at the end, P&L and return over the period, trades closed
//! in it and their win rate, the period's max drawdown). The figures come from the same equity
//! series as the report (`figures.rs`). The webhook comes from `DISCORD_WEBHOOK_URL` in the
//! process environment or the dotenv files in the repository root (`.env`,
//! `futures_agent_config.env`, `main_agent_config.env`; earlier wins); it is never printed.

use std::path::PathBuf;
use std::time::Duration;

use agent_core::dotenv::Layers;
use agent_core::time::{DAY_MS, format_utc_date, format_utc_minute, utc_day};
use exchange_core::model::Notional;
use notify::{Channel, Event, Kind, Notification, Notifier, NotifyConfig};
use risk_core::metrics::max_drawdown;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

use super::figures::{Series, day_start};
use super::ledger::Trade;
use super::report::combine_series;
use super::watch::{AgentSource, Monitor, wall_clock_ms};
use crate::SupervisorError;
use crate::layout::Layout;

/// Dotenv files read from the repository root, strongest first.
pub const DOTENV_FILES: [&str; 3] = [".env", "futures_agent_config.env", "main_agent_config.env"];

/// How long a summary may take to deliver before the command gives up.
const DELIVERY_DEADLINE: Duration = Duration::from_secs(20);

/// The figures of one period.
fn period_event(
    series: &[(i64, Decimal)],
    trades: &[Trade],
    from_ms: i64,
    to_ms: i64,
    period: &str,
) -> Event {
    let before = |t: i64| {
        let n = series.partition_point(|(time, _)| *time < t);
        n.checked_sub(1).and_then(|i| series.get(i)).or(series.first()).map_or(Decimal::ZERO, |p| p.1)
    };
    let (start, end) = (before(from_ms), before(to_ms));
    let in_period: Vec<f64> = std::iter::once(start)
        .chain(series.iter().filter(|(t, _)| (from_ms..to_ms).contains(t)).map(|(_, v)| *v))
        .map(|v| v.to_f64().unwrap_or(f64::NAN))
        .collect();
    let closed: Vec<&Trade> = trades.iter().filter(|t| (from_ms..to_ms).contains(&t.time_ms)).collect();
    let wins = closed.iter().filter(|t| t.pnl > Decimal::ZERO).count();
    let count = u32::try_from(closed.len()).unwrap_or(u32::MAX);
    Event::Summary {
        period: period.to_owned(),
        equity: Notional::new(end),
        pnl: Notional::new(end - start),
        return_fraction: (end - start).checked_div(start).unwrap_or_default(),
        trades: count,
        win_rate: (count > 0).then(|| Decimal::from(wins) / Decimal::from(count)),
        max_drawdown: Decimal::from_f64(max_drawdown(&in_period)).map(|d| d.round_dp(4)),
    }
}

/// The summary of `[from_ms, to_ms)` as one notification, titled with `period`.
pub fn summary(monitor: &Monitor, from_ms: i64, to_ms: i64, period: &str) -> Notification {
    let now = monitor.as_of_ms().max(to_ms.saturating_sub(1));
    let mut sections = Vec::new();
    let mut parts = Vec::new();
    let mut all_trades: Vec<Trade> = Vec::new();
    for agent in &monitor.agents {
        let series: Vec<(i64, Decimal)> = Series::of(agent, now).iter().collect();
        let trades = &agent.journal.ledger.trades;
        let body = period_event(&series, trades, from_ms, to_ms, period).to_notification().body;
        let problems = agent.problems().join("; ");
        let note = if problems.is_empty() { String::new() } else { format!("\n({problems})") };
        sections.push(format!("{} ({})\n{body}{note}", agent.source.name, agent.state()));
        if agent.has_data() {
            parts.push(series);
            all_trades.extend(trades.iter().copied());
        }
    }
    all_trades.sort_by_key(|t| t.time_ms);
    let slices: Vec<&[(i64, Decimal)]> = parts.iter().map(Vec::as_slice).collect();
    let combined = combine_series(&slices);
    let event = period_event(&combined, &all_trades, from_ms, to_ms, period);
    let rendered = event.to_notification();
    sections.insert(0, format!("combined\n{}", rendered.body));
    Notification::new(Kind::Summary, rendered.title, sections.join("\n\n"))
}

/// The Discord settings from the environment and the root's dotenv files; `Ok(None)` when
/// `DISCORD_WEBHOOK_URL` is not set. Telegram is left off: summaries go to Discord only.
///
/// # Errors
/// `Config`-like `Setup` when a dotenv file or a notification variable is malformed.
pub fn discord_config(layout: &Layout) -> Result<Option<NotifyConfig>, SupervisorError> {
    let files: Vec<PathBuf> = DOTENV_FILES.iter().map(|f| layout.root.join(f)).collect();
    let layers = Layers::load(&files)?;
    let mut config = NotifyConfig::from_env(|k| layers.get(k).map(|(v, _)| v.to_owned()))
        .map_err(|e| SupervisorError::Setup(e.to_string()))?;
    config.telegram = None;
    config.label.get_or_insert_with(|| "dual-agent".to_owned());
    Ok(config.discord.is_some().then_some(config))
}

/// A monitor of the layout's agents, refreshed once.
fn read_monitor(layout: &Layout) -> Monitor {
    let mut monitor = Monitor::new(AgentSource::all(layout));
    monitor.refresh();
    monitor
}

fn runtime() -> Result<tokio::runtime::Runtime, SupervisorError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("notify")
        .enable_all()
        .build()
        .map_err(|e| SupervisorError::Runtime(format!("cannot start the notification runtime: {e}")))
}

/// `supervisor notify-summary`: today's summary so far, sent to Discord now; waits for the
/// delivery.
///
/// # Errors
/// `Setup` when `DISCORD_WEBHOOK_URL` is not set or malformed; `Runtime` when Discord did not
/// take the message.
pub fn notify_summary(layout: &Layout) -> Result<(), SupervisorError> {
    let config = discord_config(layout)?.ok_or_else(|| {
        SupervisorError::Setup(
            "DISCORD_WEBHOOK_URL is not set (in the environment, .env or futures_agent_config.env): nothing sent"
                .to_owned(),
        )
    })?;
    let monitor = read_monitor(layout);
    let now = monitor.as_of_ms();
    let period = format!("on demand, {} UTC", format_utc_minute(now));
    let message = summary(&monitor, day_start(now), now + 1, &period);
    let rt = runtime()?;
    let report = rt.block_on(async {
        let notifier = Notifier::start(config).map_err(|e| SupervisorError::Runtime(e.to_string()))?;
        notifier.send(message);
        Ok::<_, SupervisorError>(notifier.shutdown(DELIVERY_DEADLINE).await)
    })?;
    match report.stats(Channel::Discord) {
        Some(stats) if stats.delivered > 0 => {
            println!("summary sent to Discord");
            Ok(())
        }
        Some(stats) => Err(SupervisorError::Runtime(format!(
            "Discord did not take the summary ({} failed, {} dropped); see the warnings above",
            stats.failed, stats.dropped
        ))),
        None => Err(SupervisorError::Runtime("the Discord channel did not start".to_owned())),
    }
}

/// The daily summary of `supervisor run`: at the first check after 00:00 UTC (wall clock), the
/// day that ended goes to Discord. Sending never blocks the supervisor's loop.
#[derive(Debug)]
pub struct DailySummary {
    runtime: tokio::runtime::Runtime,
    notifier: Notifier,
    /// The UTC day of the last check.
    day: i64,
}

impl DailySummary {
    /// Starts the Discord worker; `None` (having said why) when Discord is not configured.
    pub fn start(layout: &Layout) -> Option<Self> {
        let config = match discord_config(layout) {
            Ok(Some(config)) => config,
            Ok(None) => {
                println!("supervisor run: DISCORD_WEBHOOK_URL is not set; no daily summary");
                return None;
            }
            Err(e) => {
                println!("supervisor run: no daily summary: {e}");
                return None;
            }
        };
        let runtime = runtime().map_err(|e| println!("supervisor run: no daily summary: {e}")).ok()?;
        let notifier = {
            let _entered = runtime.enter();
            Notifier::start(config).map_err(|e| println!("supervisor run: no daily summary: {e}")).ok()?
        };
        println!("supervisor run: daily summary to Discord at 00:00 UTC");
        Some(Self { runtime, notifier, day: utc_day(wall_clock_ms()) })
    }

    /// Sends yesterday's summary when the UTC day changed since the last call.
    pub fn tick(&mut self, layout: &Layout) {
        if let Some(period) = self.tick_at(layout, wall_clock_ms()) {
            println!("supervisor run: daily summary for {period} queued for Discord");
        }
    }

    /// As [`tick`](DailySummary::tick) with the wall clock at `now_ms`; returns the period
    /// queued, if any. When several days passed unseen (a suspended machine), only the last
    /// one ended is summarized.
    pub fn tick_at(&mut self, layout: &Layout, now_ms: i64) -> Option<String> {
        let today = utc_day(now_ms);
        if today <= self.day {
            return None;
        }
        let ended = today - 1;
        self.day = today;
        let monitor = read_monitor(layout);
        let period = format!("{} (UTC)", format_utc_date(ended * DAY_MS));
        self.notifier.send(summary(&monitor, ended * DAY_MS, today * DAY_MS, &period));
        Some(period)
    }

    /// Delivers what is queued (for a few seconds at most) and stops the worker.
    pub fn stop(self) {
        let Self { runtime, notifier, .. } = self;
        runtime.block_on(notifier.shutdown(Duration::from_secs(5)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn a_period_counts_its_own_trades_and_moves() {
        let series = [(0, dec!(1000)), (10, dec!(1010)), (DAY_MS + 1, dec!(990)), (DAY_MS + 2, dec!(1020))];
        let trades = [
            Trade { time_ms: 10, pnl: dec!(10), strategy: 0 },
            Trade { time_ms: DAY_MS + 1, pnl: dec!(-20), strategy: 0 },
            Trade { time_ms: DAY_MS + 2, pnl: dec!(30), strategy: 0 },
        ];
        let Event::Summary { equity, pnl, return_fraction, trades, win_rate, max_drawdown, .. } =
            period_event(&series, &trades, DAY_MS, 2 * DAY_MS, "day 1")
        else {
            panic!("not a summary")
        };
        assert_eq!((equity.get(), pnl.get(), trades), (dec!(1020), dec!(10), 2));
        assert_eq!(return_fraction, dec!(10) / dec!(1010));
        assert_eq!(win_rate, Some(dec!(0.5)));
        // From 1010 down to 990.
        assert_eq!(max_drawdown, Some(dec!(-0.0198)));
    }
}
