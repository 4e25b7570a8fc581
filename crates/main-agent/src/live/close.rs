//! The close's decisions, in the backtest's order (its steps 3 to 7): each bar's indicators,
//! return series and holding's peak and stop level; the gate's samples and refits; equity and
//! the daily loss cap; regime-flip exits; stop moves; entries (`decide_entry`), each an order.

use agent_core::live::{Command, record};
use agent_core::regime::Regime;
use agent_core::spot::grid::to_f64;
use agent_core::spot::{
    EntryCall, EntryInput, SpotExitReason, bars_per_year, decide_entry, entry_signal, ratchet,
    regime_flip_exit,
};
use exchange_core::{Bar, OrderKind, OrderPurpose, OrderRequest, Price, PriceRounding, Side};
use rust_decimal::Decimal;
use serde_json::json;

use super::book::PendingEntry;
use super::engine::{BARS_KEPT, MODEL_FILE, SpotLiveEngine};

impl SpotLiveEngine {
    /// Indicators, return windows, holdings' peaks and stops, then the gate, for the bars of
    /// one open time (`bars` in pair order). `live`: a bar the holdings lived through (not a
    /// rebuild of the indicators from kept bars).
    pub(super) fn process_bars(&mut self, open_time: i64, bars: &[(usize, Bar)], live: bool) {
        let step = self.step_of(open_time);
        for &(i, bar) in bars {
            self.close_bar(i, bar, step, live);
        }
        self.returns.advance_to(step);
        if !self.params.features.ml_gate {
            return;
        }
        let market = self.market_regime();
        for &(i, _) in bars {
            let pair = &mut self.pairs[i];
            let close = pair.snap.map_or(f64::NAN, |s| s.close);
            if let Some(snap) = pair.snap {
                snap.features(market, &mut pair.features);
            }
            let features = pair.snap.is_some().then_some(&pair.features[..]);
            self.gate.observe(i, step, close, features);
        }
        // The window's shape is fixed at start, so a fit cannot fail; if it ever did, the
        // previous model would stay in place.
        let _ = self.gate.maybe_refit(step);
    }

    /// One pair's closed bar: indicators, return series, and (live) its holding's peak and
    /// ratcheted stop level.
    fn close_bar(&mut self, i: usize, bar: Bar, step: i64, live: bool) {
        let multiple = self.params.risk.atr_multiple;
        let pair = &mut self.pairs[i];
        pair.snap =
            pair.indicators.update(to_f64(bar.high.get()), to_f64(bar.low.get()), to_f64(bar.close.get()));
        self.returns.record(i, step, to_f64(bar.close.get()));
        if !live {
            return;
        }
        pair.bars.push_back(bar);
        if pair.bars.len() > BARS_KEPT {
            pair.bars.pop_front();
        }
        let atr = pair.snap.map(|s| s.atr);
        let Some(pos) = pair.book.position.as_mut() else { return };
        pos.peak = pos.peak.max(bar.high.get());
        if let Some(atr) = atr
            && let Some(level) = ratchet(&pair.rules, pos.level, pos.peak, atr, multiple)
        {
            pos.level = level;
        }
    }

    /// The market symbol's regime at its latest close.
    pub(super) fn market_regime(&self) -> Option<Regime> {
        self.market.and_then(|m| self.pairs[m].snap).map(|s| s.regime.regime)
    }

    /// A `SaveFile` of the model when the gate fitted since `fits_before`.
    pub(super) fn model_saved_if_fitted(&self, fits_before: usize, ts: i64) -> Vec<Command> {
        if self.gate.fits() == fits_before {
            return Vec::new();
        }
        let Some(model) = self.gate.model() else { return Vec::new() };
        match model.to_json() {
            Ok(contents) => vec![
                record("gate_fit", ts, json!({"fits": self.gate.fits(), "samples": model.samples})),
                Command::SaveFile { name: MODEL_FILE, contents },
            ],
            Err(e) => vec![Command::critical(format!("main-agent: cannot write the gate model: {e}"))],
        }
    }

    /// The whole portfolio at the close of the bars opened at `open_time` (the backtest's steps
    /// 3 to 7): bars, the gate, equity and the daily loss cap, exits, stop moves, entries.
    pub(super) fn at_close(&mut self, open_time: i64, mut bars: Vec<(usize, Bar)>) -> Vec<Command> {
        let ts = open_time + self.interval_ms;
        self.last_event_ms = self.last_event_ms.max(ts);
        bars.sort_by_key(|(i, _)| *i);
        let fits = self.gate.fits();
        self.process_bars(open_time, &bars, true);
        let mut out = self.model_saved_if_fitted(fits, ts);
        let equity = self.equity();
        out.extend(self.daily_loss_cap(ts, equity));
        out.extend(self.resume_exits(ts));
        for &(i, _) in &bars {
            let pair = &self.pairs[i];
            if regime_flip_exit(&self.params, pair.snap.as_ref())
                && pair.book.position.as_ref().is_some_and(|p| !p.is_exiting())
            {
                out.extend(self.close_position(i, SpotExitReason::RegimeFlip, ts));
            }
        }
        out.extend(self.move_stops(ts));
        if self.halted || self.breaker.is_tripped(ts) {
            return out;
        }
        let step = self.step_of(open_time);
        let market = self.market_regime();
        for &(i, _) in &bars {
            out.extend(self.consider_entry(i, step, open_time, equity, market));
        }
        out
    }

    /// The daily loss cap at a close: the day's rollover and, when it trips, everything sold.
    fn daily_loss_cap(&mut self, ts: i64, equity: Decimal) -> Vec<Command> {
        let mut out = Vec::new();
        let event = self.breaker.on_close(ts, equity);
        if let Some(day) = event.day_start {
            out.push(record(
                "day_rollover",
                ts,
                json!({"day": day.day, "open_equity": day.open_equity.to_string(), "equity": equity.to_string()}),
            ));
        }
        if let Some(trip) = event.trip {
            out.push(record(
                "breaker",
                ts,
                json!({"day": trip.day, "equity": trip.equity.to_string(), "day_open_equity": trip.day_open_equity.to_string(), "threshold": trip.threshold.to_string()}),
            ));
            out.push(Command::critical(format!(
                "main-agent: daily loss cap tripped: equity {} at or below {} (day open {}); selling everything, no buys until 00:00 UTC",
                trip.equity.round_dp(2),
                trip.threshold.round_dp(2),
                trip.day_open_equity.round_dp(2)
            )));
            for i in 0..self.pairs.len() {
                out.extend(self.close_position(i, SpotExitReason::DailyLossCap, ts));
            }
        }
        out
    }

    /// The entry decision for pair `i` at this close (the backtest's step 7), and its order.
    fn consider_entry(
        &mut self,
        i: usize,
        step: i64,
        open_time: i64,
        equity: Decimal,
        market: Option<Regime>,
    ) -> Vec<Command> {
        let pair = &self.pairs[i];
        if pair.book.is_busy() || step < pair.book.cooldown_until {
            return Vec::new();
        }
        let Some(snap) = pair.snap else { return Vec::new() };
        let EntryCall::Signal(kind) =
            entry_signal(&self.params.entries, &snap, self.params.features.regime, market)
        else {
            return Vec::new();
        };
        let mut held = Vec::with_capacity(self.pairs.len());
        let mut held_values = Vec::with_capacity(self.pairs.len());
        for (j, p) in self.pairs.iter().enumerate() {
            let value = match (&p.book.position, &p.book.entry, p.last_close()) {
                (Some(pos), _, Some(close)) => pos.qty * close,
                (None, Some(entry), Some(close)) => entry.qty * close,
                _ => continue,
            };
            held.push(j);
            held_values.push(to_f64(value));
        }
        let reserved: Decimal =
            self.pairs.iter().filter_map(|p| p.book.entry.as_ref()).map(PendingEntry::reserved_left).sum();
        let close = pair.last_close();
        let verdict = decide_entry(
            &EntryInput {
                params: &self.params,
                asset: i,
                snap: &snap,
                features: &pair.features,
                gate: &self.gate,
                held: &held,
                held_values: &held_values,
                equity,
                cash: self.cash - reserved,
                close,
                rules: &pair.rules,
                bars_per_year: bars_per_year(self.interval_ms),
            },
            &self.returns,
            &mut self.var_scratch,
        );
        let ts = open_time + self.interval_ms;
        let mut out = vec![record(
            "signal",
            ts,
            json!({"symbol": pair.symbol, "strategy": kind.as_str(), "regime": snap.regime.regime.as_str(), "outcome": verdict.outcome, "probability": verdict.probability, "qty": verdict.qty}),
        )];
        let (Some(qty), Some(close)) = (verdict.qty, close) else { return out };
        let at = pair.rules.round_price(Price::new(close), PriceRounding::Nearest);
        if let Err(violation) = pair.rules.check(qty, at) {
            out.push(record(
                "entry_refused",
                ts,
                json!({"symbol": pair.symbol, "qty": qty, "reason": violation.to_string()}),
            ));
            return out;
        }
        let id = self.next_id(OrderPurpose::Entry);
        let pair = &mut self.pairs[i];
        let order = OrderRequest {
            client_order_id: id.clone(),
            symbol: pair.symbol.clone(),
            side: Side::Buy,
            kind: OrderKind::Market,
            qty,
            reduce_only: false,
            close_position: false,
        };
        pair.book.entry = Some(PendingEntry {
            id,
            qty: qty.get(),
            reserved: qty.get() * close * (Decimal::ONE + self.params.costs.fee),
            decision_time: open_time,
            atr: snap.atr,
            signal: kind,
            regime: snap.regime.regime,
            probability: verdict.probability,
            filled: Decimal::ZERO,
            spent: Decimal::ZERO,
            final_filled: None,
        });
        out.push(record(
            "order_sent",
            ts,
            json!({"purpose": "entry", "order": order, "strategy": kind.as_str(), "regime": snap.regime.regime.as_str(), "probability": verdict.probability}),
        ));
        out.push(Command::Place(order));
        out
    }
}
