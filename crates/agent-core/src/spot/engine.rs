//! The spot backtest engine: the main agent's rules (DESIGN §11) over many pairs sharing one
//! cash balance, long or flat, 1x.
//!
//! Bars are processed by grid step (one bar interval); the pairs with a bar at that open time
//! take part, in sorted symbol order. At each step:
//! 1. at the open, per pair: a sale decided at the previous close (regime flip, daily loss cap)
//!    fills at the open; then a purchase decided at the previous close fills at the open, but
//!    only if this bar is the very next interval (when the pair has no bar there, the order is
//!    cancelled at that step and its cash freed, never carried across the hole); if the open
//!    gapped up beyond the free cash, the quantity shrinks to what the cash buys, or the order
//!    is cancelled under the minimums;
//! 2. inside the bar, per pair: a position whose ATR trailing stop the bar reaches is sold at
//!    the stop, or at the open when it opened at or below it (also on the bar it was bought);
//! 3. at the close, per pair: indicators and regimes update; a held position's peak takes the
//!    bar's high and its stop ratchets to `peak - atr_multiple * ATR` (rounded down to the tick)
//!    when that is higher; never lower;
//! 4. the market's regime is the market symbol's latest (none while it warms up, or when the
//!    symbol is not in the run: then no market block); the gate labels and stores samples and
//!    refits when due (`ml::walkforward`);
//! 5. equity (cash plus holdings at their latest closes) is marked; the daily loss cap
//!    (risk-core's `DailyBreaker`) trips at or below `(1 - max_daily_loss)` of the UTC day's
//!    opening equity: everything is sold at the next open and nothing is bought until the next
//!    UTC day;
//! 6. positions whose pair turned trend-down or high-volatility are sold at the next open
//!    (`exit_on_regime_flip`, with regimes on);
//! 7. entries, in symbol order (`entries.rs`): the TA rule, the gate, the position slots, the
//!    correlation cap, the sizing and the VaR limit; an order fills at the next open.
//!
//! At the end of the data, open positions are sold at their pair's last close. Costs: the taker
//! fee on every fill, slippage against the trader (buys up, sales down). Money is `Decimal`;
//! indicators and statistics are `f64`.

use exchange_core::Qty;
use risk_core::breaker::DailyBreaker;
use risk_core::var::VarScratch;
use rust_decimal::Decimal;

use super::data::SpotSeries;
use super::grid::{ReturnGrid, to_f64};
use super::output::{CapCounters, RegimeCounts, SpotExitReason, SpotRunOutput, SpotTrade};
use super::params::SpotParams;
use super::signals::{AssetIndicators, FEATURES, N_FEATURES, SignalKind, Snapshot};
use super::stops::{ratchet, regime_flip_exit, trailing_stop_level};
use crate::ml::WalkForward;
use crate::regime::Regime;

/// An open position.
#[derive(Debug, Clone)]
pub(super) struct Position {
    pub(super) qty: Decimal,
    pub(super) entry_price: Decimal,
    pub(super) entry_time: i64,
    pub(super) decision_time: i64,
    pub(super) entry_fee: Decimal,
    pub(super) stop: Decimal,
    pub(super) peak: Decimal,
    pub(super) signal: SignalKind,
    pub(super) regime: Regime,
    pub(super) probability: Option<f64>,
}

/// A purchase decided at a close, to fill at the next open.
#[derive(Debug, Clone)]
pub(super) struct PendingEntry {
    pub(super) qty: Decimal,
    pub(super) step: usize,
    pub(super) decision_time: i64,
    pub(super) atr: f64,
    pub(super) signal: SignalKind,
    pub(super) regime: Regime,
    pub(super) probability: Option<f64>,
    /// Cash set aside at the decision: `qty * close * (1 + fee)`.
    pub(super) reserved: Decimal,
}

/// One pair's state.
#[derive(Debug)]
pub(super) struct AssetState {
    pub(super) next: usize,
    pub(super) indicators: AssetIndicators,
    pub(super) snap: Option<Snapshot>,
    pub(super) features: [f64; N_FEATURES],
    pub(super) last_close: Option<Decimal>,
    pub(super) position: Option<Position>,
    pub(super) entry: Option<PendingEntry>,
    pub(super) exit: Option<SpotExitReason>,
    pub(super) cooldown_until: usize,
    pub(super) regimes: RegimeCounts,
}

/// Bars of `interval_ms` in a 365-day year (to annualize a per-bar volatility).
pub fn bars_per_year(interval_ms: i64) -> f64 {
    365.0 * 86_400_000.0 / interval_ms.max(1) as f64
}

/// Runs the main agent's rules over `series` (sorted by symbol, bars of `interval_ms`).
pub fn run_spot(series: &[SpotSeries], interval_ms: i64, params: &SpotParams) -> SpotRunOutput {
    let grid = ReturnGrid::new(series, interval_ms, params.risk.var_horizon_bars);
    Engine::new(series, &grid, params).run()
}

pub(super) struct Engine<'a> {
    pub(super) p: &'a SpotParams,
    pub(super) series: &'a [SpotSeries],
    pub(super) grid: &'a ReturnGrid,
    pub(super) assets: Vec<AssetState>,
    pub(super) cash: Decimal,
    /// Cash set aside for orders not yet filled.
    pub(super) committed: Decimal,
    pub(super) breaker: DailyBreaker,
    pub(super) gate: WalkForward,
    pub(super) market: Option<usize>,
    pub(super) slip: Decimal,
    pub(super) bars_per_year: f64,
    pub(super) held: Vec<usize>,
    pub(super) held_values: Vec<f64>,
    pub(super) var_scratch: VarScratch,
    pub(super) out: SpotRunOutput,
}

impl<'a> Engine<'a> {
    fn new(series: &'a [SpotSeries], grid: &'a ReturnGrid, p: &'a SpotParams) -> Self {
        let assets = series
            .iter()
            .map(|_| AssetState {
                next: 0,
                indicators: AssetIndicators::new(&p.regime, &p.entries, &p.risk),
                snap: None,
                features: [0.0; N_FEATURES],
                last_close: None,
                position: None,
                entry: None,
                exit: None,
                cooldown_until: 0,
                regimes: RegimeCounts::default(),
            })
            .collect();
        let market = series.iter().position(|s| s.symbol == p.entries.market_symbol);
        let n = series.len();
        Self {
            p,
            series,
            grid,
            assets,
            cash: p.capital,
            committed: Decimal::ZERO,
            breaker: DailyBreaker::new(p.risk.max_daily_loss, p.capital),
            gate: WalkForward::new(&p.gate, &FEATURES, n, p.round_trip_cost()),
            market,
            slip: p.costs.slippage_bps / Decimal::from(10_000),
            bars_per_year: bars_per_year(grid.interval()),
            held: Vec::with_capacity(n),
            held_values: Vec::with_capacity(n),
            var_scratch: VarScratch::default(),
            out: SpotRunOutput {
                symbols: series.iter().map(|s| s.symbol.clone()).collect(),
                trades: Vec::new(),
                equity: Vec::new(),
                final_equity: Decimal::ZERO,
                bar_steps: 0,
                breaker_trips: Vec::new(),
                signals: Vec::new(),
                caps: CapCounters::default(),
                regimes: Vec::new(),
                market_regimes: market.map(|_| RegimeCounts::default()),
                fits: 0,
                labelled: 0,
                model: None,
            },
        }
    }

    fn run(mut self) -> SpotRunOutput {
        let mut active: Vec<usize> = Vec::with_capacity(self.series.len());
        let gate_on = self.p.features.ml_gate;
        for step in 0..self.grid.steps() {
            let time = self.grid.time_of(step);
            active.clear();
            for (i, s) in self.series.iter().enumerate() {
                if s.bars.get(self.assets[i].next).is_some_and(|b| b.open_time_ms == time) {
                    active.push(i);
                }
            }
            if active.is_empty() {
                continue;
            }
            self.cancel_stale_orders(step, &active);
            for &i in &active {
                self.open_and_intrabar(i, step, time);
            }
            for &i in &active {
                self.close_bar(i);
            }
            let market = self.market.and_then(|m| self.assets[m].snap).map(|s| s.regime.regime);
            if let Some(counts) = self.out.market_regimes.as_mut() {
                counts.add(market);
            }
            if gate_on {
                for &i in &active {
                    let state = &mut self.assets[i];
                    let close = state.snap.map_or(f64::NAN, |s| s.close);
                    if let Some(snap) = state.snap {
                        snap.features(market, &mut state.features);
                    }
                    let features = state.snap.is_some().then_some(&state.features[..]);
                    self.gate.observe(i, step as i64, close, features);
                }
                // The window's shape is fixed at start, so a fit cannot fail; if it ever did, the
                // previous model would simply stay in place.
                let _ = self.gate.maybe_refit(step as i64);
            }
            let equity = self.equity();
            self.out.equity.push((time, equity));
            let close_time = time + self.grid.interval();
            if self.breaker.on_close(close_time, equity).tripped_now() {
                self.out.breaker_trips.push(time);
                for state in &mut self.assets {
                    if state.position.is_some() {
                        state.exit = Some(SpotExitReason::DailyLossCap);
                    }
                }
            }
            for &i in &active {
                let state = &mut self.assets[i];
                if regime_flip_exit(self.p, state.snap.as_ref())
                    && state.position.is_some()
                    && state.exit.is_none()
                {
                    state.exit = Some(SpotExitReason::RegimeFlip);
                }
            }
            if !self.breaker.is_tripped(close_time) {
                for &i in &active {
                    self.consider_entry(i, step, time, equity, market);
                }
            }
            for &i in &active {
                self.assets[i].next += 1;
            }
            self.out.bar_steps += active.len() as u64;
        }
        self.end_of_data();
        self.out.regimes = self.assets.iter().map(|a| a.regimes).collect();
        self.out.fits = self.gate.fits();
        self.out.labelled = self.gate.labelled();
        self.out.model = self.gate.model().cloned();
        self.out
    }

    /// Cancels the orders that cannot fill at this step's open: their pair has no bar at the
    /// very next interval (a hole in its data, or in everyone's). Their cash is freed at once.
    fn cancel_stale_orders(&mut self, step: usize, active: &[usize]) {
        for (i, state) in self.assets.iter_mut().enumerate() {
            let fills_now =
                state.entry.as_ref().is_some_and(|e| e.step + 1 == step && active.binary_search(&i).is_ok());
            if !fills_now && let Some(entry) = state.entry.take() {
                self.committed -= entry.reserved;
                self.out.caps.cancelled_by_gap += 1;
            }
        }
    }

    /// Steps 1 and 2 for one pair's bar.
    fn open_and_intrabar(&mut self, i: usize, step: usize, time: i64) {
        let bar = self.series[i].bars[self.assets[i].next];
        let open = bar.open.get();
        if let Some(reason) = self.assets[i].exit.take()
            && let Some(pos) = self.assets[i].position.take()
        {
            self.sell(i, pos, open, time, reason, step);
        }
        if let Some(entry) = self.assets[i].entry.take() {
            self.committed -= entry.reserved;
            if entry.step + 1 == step {
                self.buy(i, entry, open, time);
            } else {
                self.out.caps.cancelled_by_gap += 1;
            }
        }
        let hit = match self.assets[i].position.as_ref() {
            Some(pos) if open <= pos.stop => Some(open),
            Some(pos) if bar.low.get() <= pos.stop => Some(pos.stop),
            _ => None,
        };
        if let Some(level) = hit
            && let Some(pos) = self.assets[i].position.take()
        {
            self.sell(i, pos, level, time, SpotExitReason::TrailingStop, step);
        }
    }

    /// Fills a purchase at `open` (plus slippage), shrinking it to the free cash if needed.
    fn buy(&mut self, i: usize, entry: PendingEntry, open: Decimal, time: i64) {
        let fee_rate = self.p.costs.fee;
        let price = open * (Decimal::ONE + self.slip);
        let rules = &self.series[i].rules;
        let free = self.cash - self.committed;
        let mut qty = entry.qty;
        if qty * price * (Decimal::ONE + fee_rate) > free {
            let affordable = (free / (price * (Decimal::ONE + fee_rate))).max(Decimal::ZERO);
            qty = rules.floor_qty(Qty::new(affordable)).get();
            if qty <= Decimal::ZERO || qty < rules.min_qty.get() || qty * price < rules.min_notional.get() {
                self.out.caps.cancelled_by_cash += 1;
                return;
            }
            self.out.caps.shrunk_by_cash += 1;
        }
        let fee = qty * price * fee_rate;
        self.cash -= qty * price + fee;
        let stop = self.stop_level(i, price, entry.atr);
        self.assets[i].position = Some(Position {
            qty,
            entry_price: price,
            entry_time: time,
            decision_time: entry.decision_time,
            entry_fee: fee,
            stop,
            peak: price,
            signal: entry.signal,
            regime: entry.regime,
            probability: entry.probability,
        });
    }

    /// The trailing stop's level from `peak` and `atr` (see `stops`).
    fn stop_level(&self, i: usize, peak: Decimal, atr: f64) -> Decimal {
        trailing_stop_level(&self.series[i].rules, peak, atr, self.p.risk.atr_multiple)
    }

    /// Sells a position at `level` (minus slippage) and records the trade.
    fn sell(
        &mut self,
        i: usize,
        pos: Position,
        level: Decimal,
        time: i64,
        reason: SpotExitReason,
        step: usize,
    ) {
        let price = level * (Decimal::ONE - self.slip);
        let proceeds = pos.qty * price;
        let fee = proceeds * self.p.costs.fee;
        self.cash += proceeds - fee;
        let fees = pos.entry_fee + fee;
        self.out.trades.push(SpotTrade {
            symbol: self.series[i].symbol.clone(),
            side: exchange_core::PositionSide::Long,
            decision_time: pos.decision_time,
            entry_time: pos.entry_time,
            exit_time: time,
            entry_price: pos.entry_price,
            exit_price: price,
            qty: Qty::new(pos.qty),
            fees,
            pnl: pos.qty * (price - pos.entry_price) - fees,
            exit_reason: reason,
            signal: pos.signal,
            regime: pos.regime,
            probability: pos.probability,
        });
        self.assets[i].cooldown_until = step + self.p.entries.cooldown_bars;
    }

    /// Step 3 for one pair's bar.
    fn close_bar(&mut self, i: usize) {
        let bar = self.series[i].bars[self.assets[i].next];
        let state = &mut self.assets[i];
        state.snap =
            state.indicators.update(to_f64(bar.high.get()), to_f64(bar.low.get()), to_f64(bar.close.get()));
        state.regimes.add(state.snap.map(|s| s.regime.regime));
        state.last_close = Some(bar.close.get());
        let atr = state.snap.map(|s| s.atr);
        let Some(pos) = state.position.as_mut() else { return };
        if bar.high.get() > pos.peak {
            pos.peak = bar.high.get();
        }
        if let Some(atr) = atr
            && let Some(level) =
                ratchet(&self.series[i].rules, pos.stop, pos.peak, atr, self.p.risk.atr_multiple)
        {
            pos.stop = level;
        }
    }

    /// Cash plus every holding at its latest close.
    pub(super) fn equity(&self) -> Decimal {
        let held: Decimal =
            self.assets.iter().filter_map(|a| Some(a.position.as_ref()?.qty * a.last_close?)).sum();
        self.cash + held
    }

    fn end_of_data(&mut self) {
        for i in 0..self.assets.len() {
            self.assets[i].entry = None;
            let Some(last) = self.series[i].bars.last().copied() else { continue };
            if let Some(pos) = self.assets[i].position.take() {
                let step = self.grid.steps();
                self.sell(i, pos, last.close.get(), last.open_time_ms, SpotExitReason::EndOfData, step);
            }
        }
        self.committed = Decimal::ZERO;
        self.out.final_equity = self.cash;
        if let Some(last) = self.out.equity.last_mut() {
            last.1 = self.cash;
        }
    }
}
