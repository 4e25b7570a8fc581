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

use exchange_core::{InstrumentRules, Qty};

use super::engine::{Engine, PendingEntry};
use super::grid::to_f64;
use super::output::{SignalOutcome, SignalRecord};
use super::params::SpotParams;
use super::signals::{EntryCall, Snapshot, entry_signal};
use super::windows::{GridWindows, ReturnWindows};
use crate::ml::WalkForward;
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

    /// Checks 3 to 7 for a signal ([`decide_entry`]); places the order when they pass.
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
        let input = EntryInput {
            params: p,
            asset: i,
            snap: &snap,
            features: &self.assets[i].features,
            gate: &self.gate,
            held: &self.held,
            held_values: &self.held_values,
            equity,
            cash: self.cash - self.committed,
            close: self.assets[i].last_close,
            rules: &self.series[i].rules,
            bars_per_year: self.bars_per_year,
        };
        let verdict = decide_entry(&input, &GridWindows { grid: self.grid, step }, &mut self.var_scratch);
        record.probability = verdict.probability;
        let (Some(size), Some(close)) = (verdict.qty, self.assets[i].last_close) else {
            return verdict.outcome;
        };
        let qty = size.get();
        record.qty = Some(size);
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
        verdict.outcome
    }
}

/// What the entry decision reads besides the return windows.
#[derive(Debug, Clone, Copy)]
pub struct EntryInput<'a> {
    /// The strategy's keys.
    pub params: &'a SpotParams,
    /// The candidate's index (in the windows and `held`).
    pub asset: usize,
    /// The candidate's indicators at this close.
    pub snap: &'a Snapshot,
    /// The candidate's ML features at this close.
    pub features: &'a [f64],
    /// The gate.
    pub gate: &'a WalkForward,
    /// The pairs held: positions and orders already decided at this close, in asset order.
    pub held: &'a [usize],
    /// Their values (`qty * close`), in the same order.
    pub held_values: &'a [f64],
    /// Equity at this close (cash plus holdings at their latest closes).
    pub equity: Decimal,
    /// Cash free for a purchase (cash less what decided orders set aside).
    pub cash: Decimal,
    /// The candidate's close.
    pub close: Option<Decimal>,
    /// The candidate's instrument rules.
    pub rules: &'a InstrumentRules,
    /// Bars in a year, to annualize the volatility.
    pub bars_per_year: f64,
}

/// The entry decision's answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EntryVerdict {
    /// What became of the signal.
    pub outcome: SignalOutcome,
    /// The gate's probability, when the gate is on and has a model.
    pub probability: Option<f64>,
    /// The quantity to buy, when an order is decided.
    pub qty: Option<Qty>,
}

/// Checks 3 to 7 of the module notes for a signal of `input.asset`, the backtest's and the live
/// agent's one entry decision: the gate, the slots, the correlation cap, the sizing and the VaR
/// limit, the first refusal winning.
pub fn decide_entry<W: ReturnWindows + ?Sized>(
    input: &EntryInput<'_>,
    windows: &W,
    scratch: &mut VarScratch,
) -> EntryVerdict {
    let p = input.params;
    let mut verdict = EntryVerdict { outcome: SignalOutcome::Ordered, probability: None, qty: None };
    let refuse = |outcome, probability| EntryVerdict { outcome, probability, qty: None };
    if p.features.ml_gate {
        match input.gate.predict(input.features) {
            None => return refuse(SignalOutcome::NoModel, None),
            Some(prob) => {
                verdict.probability = Some(prob);
                if !input.gate.passes(prob) {
                    return refuse(SignalOutcome::GateRefused, Some(prob));
                }
            }
        }
    }
    let probability = verdict.probability;
    if input.held.len() >= p.risk.max_positions {
        return refuse(SignalOutcome::MaxPositions, probability);
    }
    let mut held_returns: Vec<&[f64]> = Vec::with_capacity(input.held.len());
    if p.features.correlation_filter {
        let window = p.risk.correlation_window;
        held_returns.extend(input.held.iter().map(|&j| windows.log_returns(j, window)));
        let candidate = windows.log_returns(input.asset, window);
        match check_correlation_cap(
            candidate,
            &held_returns,
            p.risk.correlation_cap,
            p.risk.correlation_min_pairs,
        ) {
            CorrelationCheck::Clear { .. } => {}
            CorrelationCheck::TooCorrelated { .. } => {
                return refuse(SignalOutcome::CorrelationRefused, probability);
            }
            CorrelationCheck::Unknown { .. } => {
                return refuse(SignalOutcome::CorrelationUnknown, probability);
            }
        }
    }
    let Some(close) = input.close else { return refuse(SignalOutcome::SizeRefused, probability) };
    let rules = input.rules;
    let sizing = size_spot_entry(&SpotSizingInput {
        equity: input.equity,
        cash: input.cash,
        price: close,
        asset_vol: input.snap.regime.vol * input.bars_per_year.sqrt(),
        target_vol: p.risk.target_vol,
        max_fraction: p.risk.max_position_fraction,
        fee: p.costs.fee,
        rules,
    });
    let Decision::Approved(mut size) = sizing else { return refuse(SignalOutcome::SizeRefused, probability) };
    if p.features.var_limit {
        let (lookback, r) = (p.risk.var_lookback_bars, &p.risk);
        held_returns.clear();
        held_returns.extend(input.held.iter().map(|&j| windows.horizon_returns(j, lookback)));
        let candidate = windows.horizon_returns(input.asset, lookback);
        let limit = r.var_limit * to_f64(input.equity);
        let fit = |value: Decimal, scratch: &mut VarScratch| {
            fit_under_var(
                input.held_values,
                &held_returns,
                candidate,
                to_f64(value),
                limit,
                r.var_confidence,
                r.var_min_scenarios,
                scratch,
            )
        };
        match fit(size.value, scratch) {
            VarFit::Full { .. } => {}
            VarFit::OverLimit { .. } => return refuse(SignalOutcome::VarRefused, probability),
            VarFit::InsufficientHistory { .. } => {
                return refuse(SignalOutcome::VarInsufficientHistory, probability);
            }
            VarFit::Shrunk { value, .. } => {
                // Rounded down to the cent first, so the decimal value never exceeds the f64 one.
                let value = Decimal::from_f64(value)
                    .unwrap_or(Decimal::ZERO)
                    .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::ToZero);
                let Decision::Approved(smaller) = size_for_value(value, close, rules) else {
                    return refuse(SignalOutcome::VarShrunkBelowMinimum, probability);
                };
                if !matches!(fit(smaller.value, scratch), VarFit::Full { .. }) {
                    return refuse(SignalOutcome::VarShrunkBelowMinimum, probability);
                }
                size = smaller;
                verdict.outcome = SignalOutcome::OrderedShrunk;
            }
        }
    }
    verdict.qty = Some(size.qty);
    verdict
}
