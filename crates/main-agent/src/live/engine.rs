//! The live decision engine of main-agent (DESIGN §11), a synchronous state machine with no I/O
//! and no clock that the runtime drives through [`agent_core::live::LiveEngine`]: closed bars,
//! order updates, fills, failed placements and flattens go in; orders, cancels, journal records,
//! the gate model's file and alerts come out.
//!
//! It decides with the backtester's code: agent-core's `spot` indicators and regimes
//! (`AssetIndicators`), entry rules (`entry_signal`), the entry decision (`decide_entry`: the
//! gate, the slots, the correlation cap, the vol-targeted size, the VaR limit) over a rolling
//! buffer of the grid's return series (`RollingReturns`), the trailing stop and its ratchet and
//! the regime-flip exit (`spot::stops`), the walk-forward gate (`ml::WalkForward`) and
//! risk-core's `DailyBreaker`. Bars of one open time are gathered across pairs and decided
//! together, in the backtest's order: indicators and stops, the gate, equity and the daily loss
//! cap, regime flips, entries. What differs is execution (`orders`): an entry is a market buy
//! sent at the close, protected once filled by a resting STOP_LOSS sell at the ATR stop that is
//! moved up (cancel, then place) as the stop ratchets; exits are market sells.
//!
//! Time: a bar's step is its open time divided by the interval (absolute, so it does not depend
//! on when the agent started); the gate samples every `sample_every` steps and cooldowns count
//! steps. The backtest counts steps from its first bar, so the two sample the same bars when
//! that first bar's step is a multiple of `sample_every`.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use agent_core::live::{Command, record};
use agent_core::ml::{LogisticModel, WalkForward};
use agent_core::regime::Regime;
use agent_core::spot::{AssetIndicators, FEATURES, N_FEATURES, RollingReturns, SpotParams, SpotTrade};
use exchange_core::{AgentTag, Bar, ClientOrderId, InstrumentRules, OrderPurpose, Qty, Symbol};
use risk_core::breaker::DailyBreaker;
use risk_core::var::VarScratch;
use rust_decimal::Decimal;
use serde_json::json;

use super::book::{Book, QUOTE};

/// The gate model's file in `run_dir`.
pub const MODEL_FILE: &str = "main-agent.model.json";
/// Bars kept per pair (to rebuild the indicators after a reload that changes their periods).
pub(super) const BARS_KEPT: usize = 1000;
/// The most klines one Binance request returns, and so the most history asked for.
const MAX_HISTORY: usize = 1000;

/// What the engine is built from.
#[derive(Debug, Clone)]
pub struct SpotEngineConfig {
    /// Strategy and risk keys.
    pub params: SpotParams,
    /// The pairs with their venue rules, in priority order.
    pub symbols: Vec<(Symbol, InstrumentRules)>,
    /// Bar length, ms (1 h).
    pub interval_ms: i64,
    /// Start of this process's session, ms: makes client order ids unique across restarts.
    pub session_ms: u64,
    /// The agent's own portfolio in USDT (not the account's balance).
    pub capital: Decimal,
    /// The gate model saved by an earlier run (`run/main-agent.model.json`), if any: it answers
    /// until the gate has fitted its own.
    pub saved_model: Option<String>,
}

/// One pair's market state and book.
#[derive(Debug, Clone)]
pub(super) struct Pair {
    pub(super) symbol: Symbol,
    /// The base asset (`BTC` of `BTCUSDT`): the balance that holds it, the asset of buy fees.
    pub(super) base: String,
    pub(super) rules: InstrumentRules,
    pub(super) indicators: AssetIndicators,
    pub(super) snap: Option<agent_core::spot::Snapshot>,
    pub(super) features: [f64; N_FEATURES],
    /// Processed bars, oldest first (the last `BARS_KEPT`).
    pub(super) bars: VecDeque<Bar>,
    /// Open time of the latest bar received (seeded, gathered or processed).
    pub(super) last_open: Option<i64>,
    pub(super) book: Book,
}

impl Pair {
    pub(super) fn last_close(&self) -> Option<Decimal> {
        self.bars.back().map(|b| b.close.get())
    }
}

/// main-agent's live state and rules.
#[derive(Debug, Clone)]
pub struct SpotLiveEngine {
    pub(super) params: SpotParams,
    /// The keys of the config the process started with (restored at a new session).
    pub(super) configured: SpotParams,
    pub(super) interval_ms: i64,
    pub(super) capital: Decimal,
    pub(super) configured_capital: Decimal,
    pub(super) pairs: Vec<Pair>,
    pub(super) market: Option<usize>,
    pub(super) returns: RollingReturns,
    pub(super) gate: WalkForward,
    /// The saved model's text, installed at the next session if the gate has no model then.
    pub(super) saved_model: Option<String>,
    pub(super) breaker: DailyBreaker,
    /// The portfolio's cash: capital, less what it paid, plus what it received.
    pub(super) cash: Decimal,
    pub(super) trades: Vec<SpotTrade>,
    pub(super) session_ms: u64,
    pub(super) seq: u64,
    /// Closed bars waiting for the rest of their open time.
    pub(super) gathering: BTreeMap<i64, Vec<(usize, Bar)>>,
    /// Seeded bars not processed yet (they are processed in time order across pairs once every
    /// pair is seeded, or before the next close).
    pub(super) seeds: BTreeMap<i64, Vec<(usize, Bar)>>,
    pub(super) seeded: BTreeSet<usize>,
    /// Quantity per order accounted from queries, not yet matched by a real fill.
    pub(super) rebuilt: HashMap<ClientOrderId, Decimal>,
    /// Quantity per order accounted from fills (real or rebuilt).
    pub(super) accounted: HashMap<ClientOrderId, Decimal>,
    pub(super) halted: bool,
    pub(super) last_event_ms: i64,
    /// Commands produced outside an event (a reload, a bad saved model), handed out with the
    /// next answer.
    pub(super) pending: Vec<Command>,
    pub(super) var_scratch: VarScratch,
}

/// `(symbol, rules)` to a fresh pair.
fn pair(symbol: Symbol, rules: InstrumentRules, params: &SpotParams) -> Pair {
    let base = symbol.as_str().strip_suffix(QUOTE).unwrap_or(symbol.as_str()).to_owned();
    Pair {
        symbol,
        base,
        rules,
        indicators: AssetIndicators::new(&params.regime, &params.entries, &params.risk),
        snap: None,
        features: [0.0; N_FEATURES],
        bars: VecDeque::new(),
        last_open: None,
        book: Book::default(),
    }
}

impl SpotLiveEngine {
    /// A fresh engine with no holdings. A saved model that cannot be read is reported (a
    /// critical alert with the first answer) and not used.
    pub fn new(config: SpotEngineConfig) -> Self {
        let params = config.params;
        let pairs: Vec<Pair> =
            config.symbols.into_iter().map(|(symbol, rules)| pair(symbol, rules, &params)).collect();
        let mut pending = Vec::new();
        let saved_model =
            config.saved_model.filter(|text| match LogisticModel::from_json(text, MODEL_FILE) {
                Ok(_) => true,
                Err(e) => {
                    pending.push(Command::critical(format!(
                    "main-agent: the saved gate model is not used ({e}); the gate waits for its own first fit"
                )));
                    false
                }
            });
        let n = pairs.len();
        let mut engine = Self {
            returns: returns_buffer(&params, n),
            gate: WalkForward::new(&params.gate, &FEATURES, n, params.round_trip_cost()),
            market: None,
            breaker: DailyBreaker::new(params.risk.max_daily_loss, config.capital),
            configured: params.clone(),
            params,
            interval_ms: config.interval_ms.max(1),
            capital: config.capital,
            configured_capital: config.capital,
            pairs,
            saved_model,
            cash: config.capital,
            trades: Vec::new(),
            session_ms: config.session_ms,
            seq: 0,
            gathering: BTreeMap::new(),
            seeds: BTreeMap::new(),
            seeded: BTreeSet::new(),
            rebuilt: HashMap::new(),
            accounted: HashMap::new(),
            halted: false,
            last_event_ms: 0,
            pending,
            var_scratch: VarScratch::default(),
        };
        engine.market = engine.index(&engine.params.entries.market_symbol);
        engine
    }

    /// Closed bars of history wanted per pair at start: enough for the regimes to warm up and
    /// the gate's first fit (its `min_train_samples` spread over the pairs, one sample every
    /// `sample_every` bars, each labelled `horizon` bars later), and for a full VaR lookback;
    /// at most 1000 (one Binance klines request).
    pub fn history_len(&self) -> u16 {
        let p = &self.params;
        let warm = [
            p.regime.ema_slow + p.regime.slope_bars,
            2 * p.regime.adx_period + 1,
            p.regime.vol_window + p.regime.vol_rank_min,
            p.entries.macd_slow + p.entries.macd_signal,
            p.entries.bollinger_period,
            p.entries.rsi_period + 1,
            p.entries.roc_long + 1,
            p.risk.atr_period + 1,
        ]
        .into_iter()
        .max()
        .unwrap_or(0)
            + 1;
        let per_pair = p.gate.min_train_samples.div_ceil(self.pairs.len().max(1));
        let gate = if p.features.ml_gate { p.gate.horizon + p.gate.sample_every * per_pair } else { 0 };
        let var = p.risk.var_horizon_bars + p.risk.var_lookback_bars + 1;
        let wanted = (warm + gate).max(var).max(p.risk.correlation_window + 1);
        u16::try_from(wanted.min(MAX_HISTORY)).unwrap_or(u16::MAX)
    }

    /// Backfilled history: kept, and processed (indicators, return windows, the gate) in time
    /// order once every pair has been seeded (with or without new bars) or the next bar closes;
    /// no decision is taken on it. Journaled (even when empty), since later decisions depend on
    /// it.
    pub fn seed_history(&mut self, symbol: &Symbol, bars: &[Bar]) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.pending);
        let Some(i) = self.index(symbol) else { return out };
        let mut newest = self.pairs[i].last_open.unwrap_or(i64::MIN);
        let mut fresh = Vec::new();
        for bar in bars {
            if bar.open_time_ms > newest {
                newest = bar.open_time_ms;
                fresh.push(*bar);
            }
        }
        // A pair with nothing new (listed since, or caught up) still counts as seeded.
        let ts = fresh.last().map_or(self.last_event_ms, |b| b.open_time_ms + self.interval_ms);
        if let Some(last) = fresh.last() {
            self.pairs[i].last_open = Some(last.open_time_ms);
        }
        for bar in &fresh {
            self.seeds.entry(bar.open_time_ms).or_default().push((i, *bar));
        }
        self.seeded.insert(i);
        out.push(record("history", ts, json!({"symbol": symbol, "bars": fresh})));
        if self.seeded.len() == self.pairs.len() {
            out.extend(self.drain_seeds(ts));
        }
        out
    }

    /// Processes the seeded bars in time order (no decisions).
    fn drain_seeds(&mut self, ts: i64) -> Vec<Command> {
        self.seeded.clear();
        let seeds = std::mem::take(&mut self.seeds);
        let fits = self.gate.fits();
        for (open_time, mut bars) in seeds {
            bars.sort_by_key(|(i, _)| *i);
            self.process_bars(open_time, &bars, true);
        }
        self.model_saved_if_fitted(fits, ts)
    }

    /// A bar of `symbol` closed. When every pair has closed the bar of that open time (or a
    /// later bar shows one never will), the close is decided for the whole portfolio.
    pub fn on_bar_closed(&mut self, symbol: &Symbol, bar: Bar) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.pending);
        let Some(i) = self.index(symbol) else { return out };
        let open_time = bar.open_time_ms;
        if !self.seeds.is_empty() {
            out.extend(self.drain_seeds(open_time));
        }
        if self.pairs[i].last_open.is_some_and(|t| t >= open_time) {
            return out;
        }
        self.pairs[i].last_open = Some(open_time);
        self.gathering.entry(open_time).or_default().push((i, bar));
        out.push(record("bar_close", open_time + self.interval_ms, json!({"symbol": symbol, "bar": bar})));
        while let Some((&t, got)) = self.gathering.iter().next() {
            let complete = got.len() == self.pairs.len();
            let overtaken = self.gathering.keys().any(|k| *k > t);
            if !(complete || overtaken) {
                break;
            }
            let bars = self.gathering.remove(&t).unwrap_or_default();
            out.extend(self.at_close(t, bars));
        }
        out
    }

    /// Decides every gathered open time (the runtime's deadline passed). Journaled, so a replay
    /// decides at the same point.
    pub fn flush_closes(&mut self) -> Vec<Command> {
        let mut out = std::mem::take(&mut self.pending);
        if self.seeds.is_empty() && self.gathering.is_empty() {
            return out;
        }
        let gathered = std::mem::take(&mut self.gathering);
        let ts = gathered.keys().next_back().map_or(self.last_event_ms, |t| t + self.interval_ms);
        out.push(record("flush", ts, json!({})));
        if !self.seeds.is_empty() {
            out.extend(self.drain_seeds(ts));
        }
        for (t, bars) in gathered {
            out.extend(self.at_close(t, bars));
        }
        out
    }

    /// Step of a bar opening at `open_time`.
    pub(super) fn step_of(&self, time_ms: i64) -> i64 {
        time_ms.div_euclid(self.interval_ms)
    }

    /// A fresh client order id of this session.
    pub(super) fn next_id(&mut self, purpose: OrderPurpose) -> ClientOrderId {
        self.seq += 1;
        ClientOrderId::generate(AgentTag::Main, purpose, self.session_ms, self.seq)
    }

    pub(super) fn index(&self, symbol: &Symbol) -> Option<usize> {
        self.pairs.iter().position(|p| &p.symbol == symbol)
    }

    /// Cash plus every holding and its dust at their pair's latest close.
    pub fn equity(&self) -> Decimal {
        let held: Decimal = self
            .pairs
            .iter()
            .filter_map(|p| {
                let qty = p.book.position.as_ref().map_or(Decimal::ZERO, |h| h.qty) + p.book.dust;
                Some(qty * p.last_close()?)
            })
            .sum();
        self.cash + held
    }

    /// The portfolio's cash.
    pub fn cash(&self) -> Decimal {
        self.cash
    }

    /// Trades closed so far (the replayed ones included).
    pub fn trades(&self) -> &[SpotTrade] {
        &self.trades
    }

    /// Each pair's book, in config order, with its latest close.
    pub fn books(&self) -> impl Iterator<Item = (&Symbol, &Book, Option<Decimal>)> {
        self.pairs.iter().map(|p| (&p.symbol, &p.book, p.last_close()))
    }

    /// The pair's regime at its latest close, if warmed up.
    pub fn regime(&self, symbol: &Symbol) -> Option<Regime> {
        self.pairs.iter().find(|p| &p.symbol == symbol)?.snap.map(|s| s.regime.regime)
    }

    /// The daily loss cap.
    pub fn breaker(&self) -> &DailyBreaker {
        &self.breaker
    }

    /// The gate.
    pub fn gate(&self) -> &WalkForward {
        &self.gate
    }

    /// The strategy keys in force.
    pub fn params(&self) -> &SpotParams {
        &self.params
    }

    /// True after a flatten: no entries until restarted.
    pub fn is_halted(&self) -> bool {
        self.halted
    }

    /// Open time of the pair's latest bar received.
    pub fn last_bar_time(&self, symbol: &Symbol) -> Option<i64> {
        self.pairs.iter().find(|p| &p.symbol == symbol)?.last_open
    }

    /// True while some pairs' bars of an open time are in and others are awaited.
    pub fn is_gathering(&self) -> bool {
        !self.gathering.is_empty()
    }

    /// Latest event time seen, ms.
    pub fn last_event_ms(&self) -> i64 {
        self.last_event_ms
    }
}

/// The rolling return buffer `params` need for `n` pairs.
pub(super) fn returns_buffer(params: &SpotParams, n: usize) -> RollingReturns {
    let keep = params.risk.var_lookback_bars.max(params.risk.correlation_window);
    RollingReturns::new(n, params.risk.var_horizon_bars, keep)
}

/// `qty` on the step grid, as a quantity.
pub(super) fn floor_qty(rules: &InstrumentRules, qty: Decimal) -> Qty {
    rules.floor_qty(Qty::new(qty.max(Decimal::ZERO)))
}
