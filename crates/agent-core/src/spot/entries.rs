//! Step 7 of the spot engine: the entry decision for one pair at a close, in this order (the
//! first refusal wins, and every signal is recorded with its outcome):
//! 1. the pair is free: no position, no order, not cooling down after an exit;
//! 2. the TA rule for its regime fires, and neither its regime nor the market's blocks longs
//!    (`signals::entry_signal`);
//! 3. the ML gate (if on): the model's probability is at least the threshold; no model yet
//!    refuses;
//! 4. a position slot is free (positions plus orders under `max_positions`);
//! 5. the correlation cap (if on): the correlation of 1-bar log returns over the last
//!    `correlation_window` bars with every held pair (positions and orders already decided at
//!    this close) is at most `correlation_cap` (risk-core's `portfolio`);
//! 6. the volatility-targeted size (risk-core's `spot_sizing`): `equity * min(target_vol /
//!    annualized vol, max_position_fraction)`, within the free cash, on the step grid;
//! 7. the VaR limit (if on): the one-day historical VaR of the held pairs plus this one
//!    (overlapping `var_horizon_bars` returns over the last `var_lookback_bars` bars, risk-core's
//!    `var`), each valued at this close, must be at most `var_limit * equity`; else the value
//!    shrinks to the largest that fits (re-checked after rounding down to the step), or the
//!    entry is refused.

use risk_core::decision::Decision;
use risk_core::portfolio::{CorrelationCheck, check_correlation_cap};
use risk_core::spot_sizing::{SpotSizingInput, size_for_value, size_spot_entry};
use risk_core::var::{VarFit, VarScratch, fit_under_var};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use super::engine::{Engine, PendingEntry};
use super::grid::to_f64;
use super::output::{SignalOutcome, SignalRecord};
use super::signals::{EntryCall, entry_signal};
use crate::regime::Regime;

impl Engine<'_> {
    /// The entry decision for pair `i` at the close of `step` (see the module notes).
    pub(super) fn consider_entry(
        &mut self,
        i: usize,
        step: usize,
        time: i64,
        equity: Decimal,
        market: Option<Regime>,
    ) {
        let state = &self.assets[i];
        if state.position.is_some() || state.entry.is_some() || step < state.cooldown_until {
            return;
        }
        let Some(snap) = state.snap else { return };
        let kind = match entry_signal(&self.p.entries, &snap, self.p.features.regime, market) {
            EntryCall::Signal(kind) => kind,
            EntryCall::BlockedByRegime(_) => {
                self.out.caps.blocked_by_regime += 1;
                return;
            }
            EntryCall::BlockedByMarket(_) => {
                self.out.caps.blocked_by_market += 1;
                return;
            }
            EntryCall::Nothing => return,
        };
        let mut record = SignalRecord {
            asset: i,
            time,
            kind,
            probability: None,
            outcome: SignalOutcome::Ordered,
            qty: None,
        };
        let outcome = self.decide(i, step, time, equity, &mut record);
        record.outcome = outcome;
        let caps = &mut self.out.caps;
        match outcome {
            SignalOutcome::MaxPositions => caps.max_positions += 1,
            SignalOutcome::CorrelationRefused => caps.correlation_refused += 1,
            SignalOutcome::CorrelationUnknown => caps.correlation_unknown += 1,
            SignalOutcome::SizeRefused => caps.size_refused += 1,
            SignalOutcome::VarRefused | SignalOutcome::VarShrunkBelowMinimum => caps.var_refused += 1,
            SignalOutcome::VarInsufficientHistory => caps.var_insufficient_history += 1,
            SignalOutcome::OrderedShrunk => caps.var_shrunk += 1,
            SignalOutcome::GateRefused | SignalOutcome::NoModel | SignalOutcome::Ordered => {}
        }
        self.out.signals.push(record);
    }

    /// Checks 3 to 7 for a signal; places the order when they pass.
    fn decide(
        &mut self,
        i: usize,
        step: usize,
        time: i64,
        equity: Decimal,
        record: &mut SignalRecord,
    ) -> SignalOutcome {
        let p = self.p;
        let Some(snap) = self.assets[i].snap else { return SignalOutcome::SizeRefused };
        if p.features.ml_gate {
            match self.gate.predict(&self.assets[i].features) {
                None => return SignalOutcome::NoModel,
                Some(prob) => {
                    record.probability = Some(prob);
                    if !self.gate.passes(prob) {
                        return SignalOutcome::GateRefused;
                    }
                }
            }
        }
        self.held.clear();
        self.held_values.clear();
        for (j, a) in self.assets.iter().enumerate() {
            let value = match (&a.position, &a.entry, a.last_close) {
                (Some(pos), _, Some(close)) => pos.qty * close,
                (None, Some(order), Some(close)) => order.qty * close,
                _ => continue,
            };
            self.held.push(j);
            self.held_values.push(to_f64(value));
        }
        if self.held.len() >= p.risk.max_positions {
            return SignalOutcome::MaxPositions;
        }
        let grid = self.grid;
        if p.features.correlation_filter {
            let window = p.risk.correlation_window;
            self.held_returns.clear();
            self.held_returns.extend(self.held.iter().map(|&j| grid.log_returns(j, step, window)));
            let candidate = grid.log_returns(i, step, window);
            match check_correlation_cap(
                candidate,
                &self.held_returns,
                p.risk.correlation_cap,
                p.risk.correlation_min_pairs,
            ) {
                CorrelationCheck::Clear { .. } => {}
                CorrelationCheck::TooCorrelated { .. } => return SignalOutcome::CorrelationRefused,
                CorrelationCheck::Unknown { .. } => return SignalOutcome::CorrelationUnknown,
            }
        }
        let Some(close) = self.assets[i].last_close else { return SignalOutcome::SizeRefused };
        let rules = &self.series[i].rules;
        let sizing = size_spot_entry(&SpotSizingInput {
            equity,
            cash: self.cash - self.committed,
            price: close,
            asset_vol: snap.regime.vol * self.bars_per_year.sqrt(),
            target_vol: p.risk.target_vol,
            max_fraction: p.risk.max_position_fraction,
            fee: p.costs.fee,
            rules,
        });
        let Decision::Approved(mut size) = sizing else { return SignalOutcome::SizeRefused };
        let mut outcome = SignalOutcome::Ordered;
        if p.features.var_limit {
            let (lookback, r) = (p.risk.var_lookback_bars, &p.risk);
            self.held_returns.clear();
            self.held_returns.extend(self.held.iter().map(|&j| grid.horizon_returns(j, step, lookback)));
            let candidate = grid.horizon_returns(i, step, lookback);
            let limit = r.var_limit * to_f64(equity);
            let fit = |value: Decimal, scratch: &mut VarScratch| {
                fit_under_var(
                    &self.held_values,
                    &self.held_returns,
                    candidate,
                    to_f64(value),
                    limit,
                    r.var_confidence,
                    r.var_min_scenarios,
                    scratch,
                )
            };
            match fit(size.value, &mut self.var_scratch) {
                VarFit::Full { .. } => {}
                VarFit::OverLimit { .. } => return SignalOutcome::VarRefused,
                VarFit::InsufficientHistory { .. } => return SignalOutcome::VarInsufficientHistory,
                VarFit::Shrunk { value, .. } => {
                    // Rounded down to the cent first, so the decimal value never exceeds the f64 one.
                    let value = Decimal::from_f64(value)
                        .unwrap_or(Decimal::ZERO)
                        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
                    let Decision::Approved(smaller) = size_for_value(value, close, rules) else {
                        return SignalOutcome::VarShrunkBelowMinimum;
                    };
                    if !matches!(fit(smaller.value, &mut self.var_scratch), VarFit::Full { .. }) {
                        return SignalOutcome::VarShrunkBelowMinimum;
                    }
                    size = smaller;
                    outcome = SignalOutcome::OrderedShrunk;
                }
            }
        }
        let qty = size.qty.get();
        record.qty = Some(size.qty);
        let reserved = qty * close * (Decimal::ONE + p.costs.fee);
        self.committed += reserved;
        self.assets[i].entry = Some(PendingEntry {
            qty,
            step,
            decision_time: time,
            atr: snap.atr,
            signal: record.kind,
            regime: snap.regime.regime,
            probability: record.probability,
            reserved,
        });
        outcome
    }
}
