//! What a spot backtest produces: closed trades, the equity curve, every entry signal with what
//! became of it, and counters for the regimes, the gate and the portfolio caps. The main
//! agent's report is built from this.

use exchange_core::{PositionSide, Qty, Symbol};
use rust_decimal::Decimal;
use serde::Serialize;

use super::signals::SignalKind;
use crate::ml::LogisticModel;
use crate::regime::Regime;

/// Why a spot position closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpotExitReason {
    /// The price reached the ATR trailing stop (filled at the stop, or at the open below it).
    TrailingStop,
    /// The asset turned trend-down or high-volatility; sold at the next open.
    RegimeFlip,
    /// The portfolio's daily loss cap tripped; sold at the next open.
    DailyLossCap,
    /// The data ended; sold at the pair's last close.
    EndOfData,
    /// Live only: sold at market by an emergency flatten (SIGUSR2).
    Flatten,
    /// Live only: sold at market because its stop could not be placed or vanished.
    Unprotected,
    /// Live only: gone from the account without a sale of ours (recorded with `--adopt`).
    External,
}

impl SpotExitReason {
    /// The report's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::TrailingStop => "trailing_stop",
            Self::RegimeFlip => "regime_flip",
            Self::DailyLossCap => "daily_loss_cap",
            Self::EndOfData => "end_of_data",
            Self::Flatten => "flatten",
            Self::Unprotected => "unprotected",
            Self::External => "external",
        }
    }
}

/// One closed spot trade.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotTrade {
    /// The pair.
    pub symbol: Symbol,
    /// Always `long` (spot, 1x).
    pub side: PositionSide,
    /// Open time of the bar at whose close the entry was decided.
    pub decision_time: i64,
    /// Open time of the bar whose open filled the entry (the next bar).
    pub entry_time: i64,
    /// Open time of the bar in which the exit filled (for `end_of_data`, the pair's last bar).
    pub exit_time: i64,
    /// Entry fill price, slippage included.
    #[serde(with = "rust_decimal::serde::str")]
    pub entry_price: Decimal,
    /// Exit fill price, slippage included.
    #[serde(with = "rust_decimal::serde::str")]
    pub exit_price: Decimal,
    /// Base quantity bought and sold.
    pub qty: Qty,
    /// Fees, entry and exit.
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    /// Net result in cash: `qty * (exit - entry) - fees`.
    #[serde(with = "rust_decimal::serde::str")]
    pub pnl: Decimal,
    /// Why it closed.
    pub exit_reason: SpotExitReason,
    /// The rule that opened it.
    pub signal: SignalKind,
    /// The asset's regime at the decision (classified even with regimes switched off).
    pub regime: Regime,
    /// The gate's probability at the decision (`None` with the gate off).
    pub probability: Option<f64>,
}

/// What became of an entry signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignalOutcome {
    /// Refused by the gate: probability under the threshold.
    GateRefused,
    /// Refused by the gate: no model fitted yet.
    NoModel,
    /// Refused: all position slots taken.
    MaxPositions,
    /// Refused by the correlation cap.
    CorrelationRefused,
    /// Refused: a correlation with a held position could not be computed.
    CorrelationUnknown,
    /// Refused by the sizing (no cash, or under the instrument's minimums).
    SizeRefused,
    /// Refused: the portfolio's VaR is already over the limit.
    VarRefused,
    /// Refused: the VaR limit only allowed a size under the instrument's minimums.
    VarShrunkBelowMinimum,
    /// Refused: too few scenarios for a VaR.
    VarInsufficientHistory,
    /// An order for the full size.
    Ordered,
    /// An order shrunk to fit the VaR limit.
    OrderedShrunk,
}

impl SignalOutcome {
    /// True when the gate let it through.
    pub fn passed_gate(self) -> bool {
        !matches!(self, Self::GateRefused | Self::NoModel)
    }

    /// True when an order was decided.
    pub fn ordered(self) -> bool {
        matches!(self, Self::Ordered | Self::OrderedShrunk)
    }
}

/// One entry signal (a TA rule that fired for a free asset), in decision order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SignalRecord {
    /// Index of the pair in the run's (sorted) symbols.
    pub asset: usize,
    /// Open time of the bar at whose close it fired.
    pub time: i64,
    /// The rule.
    pub kind: SignalKind,
    /// The gate's probability, when a model was asked.
    pub probability: Option<f64>,
    /// What became of it.
    pub outcome: SignalOutcome,
    /// The quantity ordered, when an order was decided.
    pub qty: Option<Qty>,
}

/// How often the caps and the execution acted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CapCounters {
    /// Entries shrunk to fit the VaR limit (and ordered).
    pub var_shrunk: u64,
    /// Entries refused by the VaR limit (already over it, or shrunk under the minimums).
    pub var_refused: u64,
    /// Entries refused for too little VaR history.
    pub var_insufficient_history: u64,
    /// Entries refused by the correlation cap.
    pub correlation_refused: u64,
    /// Entries refused for an unknown correlation.
    pub correlation_unknown: u64,
    /// Entries refused by the sizing.
    pub size_refused: u64,
    /// Entries refused for lack of a position slot.
    pub max_positions: u64,
    /// Orders cancelled because the pair's next bar was not the next interval (a hole).
    pub cancelled_by_gap: u64,
    /// Orders cancelled because the open gapped up beyond the cash.
    pub cancelled_by_cash: u64,
    /// Orders filled smaller than ordered because the open gapped up beyond the cash.
    pub shrunk_by_cash: u64,
    /// Signals blocked by the asset's regime.
    pub blocked_by_regime: u64,
    /// Signals blocked by the market's regime.
    pub blocked_by_market: u64,
}

/// Bars spent in each regime, plus the warm-up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RegimeCounts {
    /// Bars in trend-up.
    pub trend_up: u64,
    /// Bars in trend-down.
    pub trend_down: u64,
    /// Bars in range.
    pub range: u64,
    /// Bars in high volatility.
    pub high_vol: u64,
    /// Bars before the regime was known.
    pub warmup: u64,
}

impl RegimeCounts {
    /// Counts one bar.
    pub fn add(&mut self, regime: Option<Regime>) {
        match regime {
            Some(Regime::TrendUp) => self.trend_up += 1,
            Some(Regime::TrendDown) => self.trend_down += 1,
            Some(Regime::Range) => self.range += 1,
            Some(Regime::HighVol) => self.high_vol += 1,
            None => self.warmup += 1,
        }
    }

    /// Bars counted.
    pub fn total(&self) -> u64 {
        self.trend_up + self.trend_down + self.range + self.high_vol + self.warmup
    }
}

/// Everything a run produced.
#[derive(Debug, Clone)]
pub struct SpotRunOutput {
    /// The run's symbols, sorted (indices of `SignalRecord::asset`).
    pub symbols: Vec<Symbol>,
    /// Closed trades in the order they closed.
    pub trades: Vec<SpotTrade>,
    /// `(bar open time, equity at that close)`; the last point is after the end-of-data sales.
    pub equity: Vec<(i64, Decimal)>,
    /// Cash after everything was sold.
    pub final_equity: Decimal,
    /// Asset-bars processed.
    pub bar_steps: u64,
    /// Open times of the bars at whose close the daily loss cap tripped.
    pub breaker_trips: Vec<i64>,
    /// Every entry signal.
    pub signals: Vec<SignalRecord>,
    /// Cap and execution counters.
    pub caps: CapCounters,
    /// Bars per regime, per asset (same order as `symbols`).
    pub regimes: Vec<RegimeCounts>,
    /// Timestamps per regime of the market symbol (`None` when it is not in the run).
    pub market_regimes: Option<RegimeCounts>,
    /// Model fits.
    pub fits: usize,
    /// Samples labelled.
    pub labelled: u64,
    /// The last fitted model.
    pub model: Option<LogisticModel>,
}
