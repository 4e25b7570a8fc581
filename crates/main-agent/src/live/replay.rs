//! Rebuilding the live engine from its journal, sessions, and config reloads.
//!
//! The journal holds every input the engine decided on (seeded history, bar closes, flushes,
//! order updates, fills real and rebuilt, failed placements, flattens, reconciliation changes)
//! and the session and reload markers. Replay feeds them back through the same methods, which
//! take the same decisions with the same client order ids; the commands they produce were
//! carried out when the records were first written, so they are dropped.
//!
//! What the decisions depend on beyond the inputs is journaled too, so that a replay does not
//! depend on the config or the files of the restart: each session record holds the strategy keys
//! and the capital in force and, when the gate starts from a saved model, that model's text.

use agent_core::journal::JournalRecord;
use agent_core::live::{Command, record};
use agent_core::ml::{LogisticModel, WalkForward};
use agent_core::spot::{AssetIndicators, FEATURES, N_FEATURES, SpotParams};
use exchange_core::{Bar, ClientOrderId, Fill, OrderUpdate, Symbol};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::engine::{MODEL_FILE, SpotLiveEngine, returns_buffer};

impl SpotLiveEngine {
    /// Rebuilds the state from the journal's records (see the module notes).
    ///
    /// # Errors
    /// A record of an input kind whose fields do not parse, naming its `seq` and kind.
    pub fn replay(&mut self, records: &[JournalRecord]) -> Result<(), String> {
        for r in records {
            let fields = Value::Object(r.fields.clone());
            let field = |name: &str| fields.get(name).cloned().unwrap_or(Value::Null);
            let bad = |e: serde_json::Error| format!("journal record {} ({}): {e}", r.seq, r.kind);
            let symbol = || serde_json::from_value::<Symbol>(field("symbol")).map_err(bad);
            let _ = match r.kind.as_str() {
                "history" => {
                    let bars: Vec<Bar> = serde_json::from_value(field("bars")).map_err(bad)?;
                    self.seed_history(&symbol()?, &bars)
                }
                "bar_close" => {
                    let bar: Bar = serde_json::from_value(field("bar")).map_err(bad)?;
                    self.on_bar_closed(&symbol()?, bar)
                }
                "flush" => self.flush_closes(),
                "order_update" => {
                    let update: OrderUpdate = serde_json::from_value(fields.clone()).map_err(bad)?;
                    self.on_order_update(&update)
                }
                // A late execution partly covered by a rebuilt fill is journaled whole as
                // `fill_covered` and its rest as `fill`: replaying the first makes the same split
                // (the second is then a duplicate).
                "fill" | "fill_covered" => {
                    self.on_fill(&serde_json::from_value::<Fill>(fields.clone()).map_err(bad)?)
                }
                "fill_rebuilt" => {
                    self.on_rebuilt_fill(&serde_json::from_value::<Fill>(fields.clone()).map_err(bad)?)
                }
                "order_failed" => {
                    let id: ClientOrderId = serde_json::from_value(field("id")).map_err(bad)?;
                    let error: String = serde_json::from_value(field("error")).map_err(bad)?;
                    self.on_place_failed(&id, &symbol()?, &error, r.ts)
                }
                "flatten" => self.flatten(r.ts),
                "reprotect" => self.reprotect(&symbol()?, r.ts),
                "external_close" => {
                    let price: Decimal = serde_json::from_value(field("price")).map_err(bad)?;
                    match self.index(&symbol()?) {
                        Some(i) => self.external_close(i, price, r.ts),
                        None => Vec::new(),
                    }
                }
                "dust" => {
                    let dust: Decimal = serde_json::from_value(field("dust")).map_err(bad)?;
                    match self.index(&symbol()?) {
                        Some(i) => self.set_dust(i, dust, r.ts),
                        None => Vec::new(),
                    }
                }
                "params" => {
                    let params: SpotParams = serde_json::from_value(field("params")).map_err(bad)?;
                    self.set_params(params);
                    Vec::new()
                }
                "session" => {
                    let session: u64 = serde_json::from_value(field("session_ms")).map_err(bad)?;
                    let params: Option<SpotParams> = serde_json::from_value(field("params")).map_err(bad)?;
                    let capital: Option<Decimal> = serde_json::from_value(field("capital")).map_err(bad)?;
                    let model: Option<String> = serde_json::from_value(field("gate_model")).map_err(bad)?;
                    self.apply_session(session, params, capital, model.as_deref())
                        .map_err(|e| format!("journal record {} (session): {e}", r.seq))?;
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        self.pending.clear();
        Ok(())
    }

    /// Starts a new process session: client order ids continue under `session_ms`, the keys
    /// and capital of the process's config take over, and a gate without a model starts from
    /// the saved one. Returns the record that makes a replay do the same.
    pub fn begin_session(&mut self, session_ms: u64, ts: i64) -> Command {
        let model = self.saved_model.take().filter(|_| self.gate.model().is_none());
        let params = self.configured.clone();
        let capital = self.configured_capital;
        if let Err(e) = self.apply_session(session_ms, Some(params.clone()), Some(capital), model.as_deref())
        {
            self.pending
                .push(Command::critical(format!("main-agent: the saved gate model is not used: {e}")));
        }
        record(
            "session",
            ts,
            json!({"session_ms": session_ms, "params": params, "capital": capital.to_string(), "gate_model": model}),
        )
    }

    /// A session marker's effects (live or replayed).
    fn apply_session(
        &mut self,
        session_ms: u64,
        params: Option<SpotParams>,
        capital: Option<Decimal>,
        model: Option<&str>,
    ) -> Result<(), String> {
        self.session_ms = session_ms;
        self.seq = 0;
        if let Some(params) = params {
            self.apply_params(params);
        }
        if let Some(capital) = capital {
            // A changed capital is money put in or taken out of the agent's portfolio.
            self.cash += capital - self.capital;
            self.capital = capital;
        }
        if let Some(text) = model {
            let parsed = LogisticModel::from_json(text, MODEL_FILE).map_err(|e| e.to_string())?;
            self.gate.install(parsed).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Replaces the strategy and risk keys (config reload). Holdings keep their stops. When
    /// the indicators, the gate or the return windows are shaped differently, they are rebuilt
    /// from the kept bars (the gate keeps answering with its current model until it refits).
    /// Journaled with the next answer, so that a replay reloads at the same point.
    pub fn set_params(&mut self, params: SpotParams) {
        if params == self.params {
            return;
        }
        self.pending.push(record("params", self.last_event_ms, json!({"params": params})));
        self.apply_params(params);
    }

    fn apply_params(&mut self, params: SpotParams) {
        if params == self.params {
            return;
        }
        let reshaped = params.regime != self.params.regime
            || params.entries != self.params.entries
            || params.gate != self.params.gate
            || params.costs != self.params.costs
            || params.features.ml_gate != self.params.features.ml_gate
            || params.risk.atr_period != self.params.risk.atr_period
            || params.risk.var_horizon_bars != self.params.risk.var_horizon_bars
            || params.risk.var_lookback_bars != self.params.risk.var_lookback_bars
            || params.risk.correlation_window != self.params.risk.correlation_window;
        self.breaker =
            risk_core::breaker::DailyBreaker::restore(params.risk.max_daily_loss, self.breaker.state());
        self.params = params;
        self.market = self.index(&self.params.entries.market_symbol);
        if reshaped {
            self.rebuild_indicators();
        }
    }

    /// Indicators, return windows and the gate rebuilt from the kept bars, in time order.
    fn rebuild_indicators(&mut self) {
        let p = self.params.clone();
        let n = self.pairs.len();
        for pair in &mut self.pairs {
            pair.indicators = AssetIndicators::new(&p.regime, &p.entries, &p.risk);
            pair.snap = None;
            pair.features = [0.0; N_FEATURES];
        }
        self.returns = returns_buffer(&p, n);
        let model = self.gate.model().cloned();
        self.gate = WalkForward::new(&p.gate, &FEATURES, n, p.round_trip_cost());
        if let Some(model) = model {
            // Same features by construction: the names are the gate's own.
            let _ = self.gate.install(model);
        }
        let mut by_time: std::collections::BTreeMap<i64, Vec<(usize, Bar)>> =
            std::collections::BTreeMap::new();
        for (i, pair) in self.pairs.iter().enumerate() {
            for bar in &pair.bars {
                by_time.entry(bar.open_time_ms).or_default().push((i, *bar));
            }
        }
        let fits = self.gate.fits();
        let last = by_time.keys().next_back().map_or(self.last_event_ms, |t| t + self.interval_ms);
        for (open_time, bars) in by_time {
            self.process_bars(open_time, &bars, false);
        }
        let saved = self.model_saved_if_fitted(fits, last);
        self.pending.extend(saved);
    }
}
