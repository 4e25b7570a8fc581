//! What is sent and where it goes: [`Notification`] (a kind, a title, a body in plain text),
//! [`Event`] (the trading events of DESIGN §13, each rendered to a notification), and the routing
//! of each [`Kind`] to its [`Channel`]s.
//!
//! Routing: trade alerts go to Telegram in real time, performance summaries to Discord, and
//! critical events (breaker tripped, unprotected position, agent crash and restart) to both. A
//! channel that is not configured is skipped; nothing falls back to the other channel.

use std::fmt;

use exchange_core::model::{Notional, PositionSide, Price, Qty, Symbol};
use rust_decimal::{Decimal, RoundingStrategy};

/// What a notification is about, which decides where it goes ([`Kind::channels`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Real-time trading alerts: position opened or closed, stop placed, agent started or stopped.
    Trade,
    /// Performance summaries: daily at 00:00 UTC, and on demand.
    Summary,
    /// Needs a human: breaker tripped, unprotected position, agent crashed or restarted.
    Critical,
}

/// A delivery service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Channel {
    /// Telegram Bot API `sendMessage`.
    Telegram,
    /// A Discord webhook.
    Discord,
}

impl Channel {
    /// Both channels, in a fixed order.
    pub const ALL: [Channel; 2] = [Channel::Telegram, Channel::Discord];

    /// The channel's name in logs (`telegram`, `discord`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Telegram => "telegram",
            Self::Discord => "discord",
        }
    }

    /// Position in [`Channel::ALL`], for per-channel arrays.
    pub(crate) fn index(self) -> usize {
        match self {
            Self::Telegram => 0,
            Self::Discord => 1,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Kind {
    /// The channels a notification of this kind goes to.
    pub fn channels(self) -> &'static [Channel] {
        match self {
            Self::Trade => &[Channel::Telegram],
            Self::Summary => &[Channel::Discord],
            Self::Critical => &[Channel::Telegram, Channel::Discord],
        }
    }
}

/// One message: a kind, a one-line title and a body, both plain text (each channel escapes them
/// for its own markup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    /// Decides the channels.
    pub kind: Kind,
    /// One line, shown in bold.
    pub title: String,
    /// Any number of lines; may be empty.
    pub body: String,
}

impl Notification {
    /// A notification of `kind`.
    pub fn new(kind: Kind, title: impl Into<String>, body: impl Into<String>) -> Self {
        Self { kind, title: title.into(), body: body.into() }
    }
}

/// A trading event worth telling a human about (DESIGN §13). Fractions (`return_fraction`,
/// `win_rate`, ...) are plain fractions (`-0.015` is shown as `-1.5%`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An entry filled.
    TradeOpened {
        /// The instrument.
        symbol: Symbol,
        /// Long or short.
        side: PositionSide,
        /// Filled size.
        qty: Qty,
        /// Average fill price.
        price: Price,
        /// Leverage, for futures.
        leverage: Option<u32>,
    },
    /// A position closed.
    TradeClosed {
        /// The instrument.
        symbol: Symbol,
        /// Long or short.
        side: PositionSide,
        /// Closed size.
        qty: Qty,
        /// Average entry price.
        entry: Price,
        /// Average exit price.
        exit: Price,
        /// Realized P&L after fees, in quote currency.
        pnl: Notional,
        /// Why it closed (`stop loss`, `take profit`, `signal`).
        reason: String,
    },
    /// A protective order rests on the venue.
    StopPlaced {
        /// The instrument.
        symbol: Symbol,
        /// `stop loss`, `take profit`, `trailing stop`.
        stop: String,
        /// Trigger price.
        trigger: Price,
    },
    /// A position was found without its stop (DESIGN §10, "never unprotected").
    Unprotected {
        /// The instrument.
        symbol: Symbol,
        /// What is missing and what the agent did about it.
        detail: String,
    },
    /// The daily loss breaker tripped: everything closes, nothing opens until the next UTC day.
    BreakerTripped {
        /// The day's change in equity as a fraction of the day's opening equity.
        day_return_fraction: Decimal,
        /// The day's change in equity, in quote currency.
        day_pnl: Notional,
    },
    /// An agent started.
    AgentStarted {
        /// `main-agent`, `futures-agent`.
        agent: String,
        /// Mode and venue (`paper on binance-demo`).
        detail: String,
    },
    /// An agent stopped cleanly.
    AgentStopped {
        /// The agent.
        agent: String,
        /// Why (`SIGTERM`).
        reason: String,
    },
    /// An agent exited unexpectedly.
    AgentCrashed {
        /// The agent.
        agent: String,
        /// Exit status and its last log line.
        detail: String,
    },
    /// The supervisor restarted a crashed agent.
    AgentRestarted {
        /// The agent.
        agent: String,
        /// Restarts so far (1 for the first).
        attempt: u32,
    },
    /// A performance summary.
    Summary {
        /// `2026-11-03 (UTC)`, `on demand`.
        period: String,
        /// Equity at the end of the period.
        equity: Notional,
        /// Change in equity over the period.
        pnl: Notional,
        /// `pnl` as a fraction of the equity at the start of the period.
        return_fraction: Decimal,
        /// Trades closed in the period.
        trades: u32,
        /// Winning trades over closed trades; `None` without trades.
        win_rate: Option<Decimal>,
        /// Largest peak-to-trough fall, as a negative fraction.
        max_drawdown: Option<Decimal>,
    },
}

impl Event {
    /// The kind of notification this event becomes.
    pub fn kind(&self) -> Kind {
        match self {
            Self::TradeOpened { .. }
            | Self::TradeClosed { .. }
            | Self::StopPlaced { .. }
            | Self::AgentStarted { .. }
            | Self::AgentStopped { .. } => Kind::Trade,
            Self::Summary { .. } => Kind::Summary,
            Self::Unprotected { .. }
            | Self::BreakerTripped { .. }
            | Self::AgentCrashed { .. }
            | Self::AgentRestarted { .. } => Kind::Critical,
        }
    }

    /// The notification: a title and a plain-text body with readable numbers.
    pub fn to_notification(&self) -> Notification {
        let (title, body) = match self {
            Self::TradeOpened { symbol, side, qty, price, leverage } => {
                let leverage = leverage.map(|l| format!(", {l}x")).unwrap_or_default();
                (
                    format!("Opened {} {symbol}", side_word(*side)),
                    format!("qty {} @ {}{leverage}", grouped(qty.get()), grouped(price.get())),
                )
            }
            Self::TradeClosed { symbol, side, qty, entry, exit, pnl, reason } => (
                format!("Closed {} {symbol}", side_word(*side)),
                format!(
                    "qty {} entry {} exit {}\nP&L {} ({reason})",
                    grouped(qty.get()),
                    grouped(entry.get()),
                    grouped(exit.get()),
                    money(pnl.get()),
                ),
            ),
            Self::StopPlaced { symbol, stop, trigger } => {
                (format!("Stop placed {symbol}"), format!("{stop} at {}", grouped(trigger.get())))
            }
            Self::Unprotected { symbol, detail } => {
                (format!("UNPROTECTED position {symbol}"), detail.clone())
            }
            Self::BreakerTripped { day_return_fraction, day_pnl } => (
                "Daily loss breaker tripped".to_owned(),
                format!(
                    "day {} ({})\npositions closing, no entries until 00:00 UTC",
                    percent(*day_return_fraction),
                    money(day_pnl.get())
                ),
            ),
            Self::AgentStarted { agent, detail } => (format!("{agent} started"), detail.clone()),
            Self::AgentStopped { agent, reason } => (format!("{agent} stopped"), reason.clone()),
            Self::AgentCrashed { agent, detail } => (format!("{agent} CRASHED"), detail.clone()),
            Self::AgentRestarted { agent, attempt } => {
                (format!("{agent} restarted"), format!("restart #{attempt} after a crash"))
            }
            Self::Summary { period, equity, pnl, return_fraction, trades, win_rate, max_drawdown } => {
                let mut body = format!(
                    "equity {}\nP&L {} ({})\ntrades {trades}",
                    grouped(rounded(equity.get())),
                    money(pnl.get()),
                    percent(*return_fraction)
                );
                if let Some(rate) = win_rate {
                    body.push_str(&format!(", win rate {}", percent(*rate).trim_start_matches('+')));
                }
                if let Some(drawdown) = max_drawdown {
                    body.push_str(&format!("\nmax drawdown {}", percent(*drawdown)));
                }
                (format!("Summary {period}"), body)
            }
        };
        Notification::new(self.kind(), title, body)
    }
}

impl From<Event> for Notification {
    fn from(event: Event) -> Self {
        event.to_notification()
    }
}

impl From<&Event> for Notification {
    fn from(event: &Event) -> Self {
        event.to_notification()
    }
}

fn side_word(side: PositionSide) -> &'static str {
    match side {
        PositionSide::Long => "LONG",
        PositionSide::Short => "SHORT",
    }
}

/// A signed amount with two decimals and grouped thousands: `+1,234.50`, `-7.25`.
fn money(value: Decimal) -> String {
    let text = grouped(rounded(value));
    let text = match text.split_once('.') {
        Some((int, frac)) => format!("{int}.{frac:0<2}"),
        None => format!("{text}.00"),
    };
    if value.is_sign_negative() || value.is_zero() { text } else { format!("+{text}") }
}

/// A fraction as a signed percentage with at most two decimals: `-0.015` -> `-1.5%`.
fn percent(fraction: Decimal) -> String {
    let pct = rounded(fraction * Decimal::ONE_HUNDRED).normalize();
    if pct.is_sign_positive() && !pct.is_zero() { format!("+{pct}%") } else { format!("{pct}%") }
}

/// Two decimals, halves away from zero (as people round, not as banks do).
fn rounded(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// The decimal with its integer part grouped by thousands (`1234.5` -> `1,234.5`), trailing zeros
/// of the fraction removed.
fn grouped(value: Decimal) -> String {
    let text = value.normalize().to_string();
    let (sign, unsigned) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text.as_str()),
    };
    let (int, frac) = unsigned.split_once('.').map_or((unsigned, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    for (i, digit) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn symbol(text: &str) -> Symbol {
        Symbol::new(text).unwrap()
    }

    #[test]
    fn kinds_route_to_their_channels() {
        assert_eq!(Kind::Trade.channels(), &[Channel::Telegram]);
        assert_eq!(Kind::Summary.channels(), &[Channel::Discord]);
        assert_eq!(Kind::Critical.channels(), &[Channel::Telegram, Channel::Discord]);
        for channel in Channel::ALL {
            assert_eq!(Channel::ALL[channel.index()], channel);
        }
    }

    #[test]
    fn numbers_are_readable() {
        let cases = [
            (grouped(dec!(1234.56)), "1,234.56"),
            (grouped(dec!(-1234567.5)), "-1,234,567.5"),
            (grouped(dec!(999)), "999"),
            (grouped(dec!(0.00001230)), "0.0000123"),
            (money(dec!(7.5)), "+7.50"),
            (money(dec!(-1234.567)), "-1,234.57"),
            (money(dec!(0)), "0.00"),
            (percent(dec!(-0.015)), "-1.5%"),
            (percent(dec!(0.12345)), "+12.35%"),
            (money(dec!(0.125)), "+0.13"),
            (percent(dec!(0)), "0%"),
        ];
        for (shown, expected) in cases {
            assert_eq!(shown, expected);
        }
    }

    #[test]
    fn events_render_with_their_kind() {
        let opened = Event::TradeOpened {
            symbol: symbol("BTCUSDT"),
            side: PositionSide::Long,
            qty: Qty::new(dec!(0.015)),
            price: Price::new(dec!(27000.50)),
            leverage: Some(10),
        };
        let expected = Notification::new(Kind::Trade, "Opened LONG BTCUSDT", "qty 0.015 @ 27,000.5, 10x");
        assert_eq!(Notification::from(&opened), expected);

        let closed = Event::TradeClosed {
            symbol: symbol("ETHUSDT"),
            side: PositionSide::Short,
            qty: Qty::new(dec!(2)),
            entry: Price::new(dec!(1800)),
            exit: Price::new(dec!(1850.25)),
            pnl: Notional::new(dec!(-100.5)),
            reason: "stop loss".to_owned(),
        };
        let shown = closed.to_notification();
        assert_eq!(shown.title, "Closed SHORT ETHUSDT");
        assert_eq!(shown.body, "qty 2 entry 1,800 exit 1,850.25\nP&L -100.50 (stop loss)");

        let breaker =
            Event::BreakerTripped { day_return_fraction: dec!(-0.2051), day_pnl: Notional::new(dec!(-2051)) };
        let shown = Notification::from(breaker);
        assert_eq!(shown.kind, Kind::Critical);
        assert_eq!(shown.body, "day -20.51% (-2,051.00)\npositions closing, no entries until 00:00 UTC");

        let summary = Event::Summary {
            period: "2026-11-03 (UTC)".to_owned(),
            equity: Notional::new(dec!(10234.567)),
            pnl: Notional::new(dec!(234.567)),
            return_fraction: dec!(0.02346),
            trades: 4,
            win_rate: Some(dec!(0.75)),
            max_drawdown: Some(dec!(-0.031)),
        };
        let shown = summary.to_notification();
        assert_eq!(shown.kind, Kind::Summary);
        assert_eq!(shown.title, "Summary 2026-11-03 (UTC)");
        assert_eq!(
            shown.body,
            "equity 10,234.57\nP&L +234.57 (+2.35%)\ntrades 4, win rate 75%\nmax drawdown -3.1%"
        );
    }

    #[test]
    fn every_event_has_the_documented_kind() {
        let crashed =
            Event::AgentCrashed { agent: "futures-agent".to_owned(), detail: "exit 101".to_owned() };
        let restarted = Event::AgentRestarted { agent: "futures-agent".to_owned(), attempt: 2 };
        let unprotected = Event::Unprotected { symbol: symbol("SOLUSDT"), detail: "closing".to_owned() };
        let started = Event::AgentStarted { agent: "main-agent".to_owned(), detail: "paper".to_owned() };
        let stopped = Event::AgentStopped { agent: "main-agent".to_owned(), reason: "SIGTERM".to_owned() };
        let stop = Event::StopPlaced {
            symbol: symbol("SOLUSDT"),
            stop: "stop loss".to_owned(),
            trigger: Price::new(dec!(97)),
        };
        for event in [&crashed, &restarted, &unprotected] {
            assert_eq!(event.kind(), Kind::Critical, "{event:?}");
        }
        for event in [&started, &stopped, &stop] {
            assert_eq!(event.kind(), Kind::Trade, "{event:?}");
        }
        assert_eq!(restarted.to_notification().body, "restart #2 after a crash");
        assert_eq!(stop.to_notification().body, "stop loss at 97");
    }
}
