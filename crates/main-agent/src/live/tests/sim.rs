//! Fixtures: synthetic bars, easy parameters, command filters, and a simulated spot venue that
//! fills market orders at the next bar's open and resting stops inside the bar, the way the
//! backtester fills its orders.

use agent_core::journal::JournalRecord;
use agent_core::live::{AlertLevel, Command, StatusContext};
use agent_core::regime::RegimeParams;
use agent_core::spot::{FeatureSwitches, SpotParams};
use exchange_core::{
    Bar, ClientOrderId, Fill, InstrumentRules, Notional, OrderKind, OrderRequest, OrderStatus, OrderUpdate,
    Price, Qty, Side, Symbol,
};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal_macros::dec;

use crate::live::{SpotEngineConfig, SpotLiveEngine};

pub const HOUR: i64 = 3_600_000;
/// 2024-01-01 00:00 UTC (its step is a multiple of the gate's `sample_every`).
pub const T0: i64 = 1_704_067_200_000;

pub fn sym(s: &str) -> Symbol {
    Symbol::new(s).unwrap()
}

pub fn rules(symbol: &Symbol) -> InstrumentRules {
    InstrumentRules::new(
        symbol.clone(),
        Price::new(dec!(0.0001)),
        Qty::new(dec!(0.001)),
        Qty::new(dec!(0.001)),
        None,
        Notional::new(dec!(5)),
    )
    .unwrap()
}

/// Bars from closes, the first opening at `T0 + start * HOUR`: open = previous close, high and
/// low 0.1 % around the larger and smaller of open and close (the backtester's tests' shape).
pub fn bars(start: i64, closes: &[f64]) -> Vec<Bar> {
    let mut prev: Option<f64> = None;
    let d = |x: f64| Price::new(Decimal::from_f64(x).unwrap().round_dp(4));
    closes
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let o = prev.replace(c).unwrap_or(c);
            Bar {
                open_time_ms: T0 + (start + i as i64) * HOUR,
                open: d(o),
                high: d(o.max(c) * 1.001),
                low: d(o.min(c) * 0.999),
                close: d(c),
                volume: dec!(1),
            }
        })
        .collect()
}

pub fn rising(n: usize) -> Vec<f64> {
    (0..n).map(|i| 100.0 * 1.01f64.powi(i as i32)).collect()
}

/// Short warm-ups, every feature off (a rising series signals at once), one position of up to
/// half the equity, no cooldown: the backtester's scenario parameters.
pub fn easy_params() -> SpotParams {
    let mut p = SpotParams {
        features: FeatureSwitches {
            ml_gate: false,
            regime: false,
            correlation_filter: false,
            var_limit: false,
        },
        regime: RegimeParams {
            ema_fast: 3,
            ema_slow: 5,
            slope_bars: 2,
            adx_period: 3,
            vol_window: 3,
            vol_rank_window: 10,
            vol_rank_min: 2,
            ..RegimeParams::default()
        },
        ..SpotParams::default()
    };
    p.entries.rsi_overbought = 101.0;
    p.entries.macd_fast = 3;
    p.entries.macd_slow = 5;
    p.entries.macd_signal = 2;
    p.entries.bollinger_period = 3;
    p.entries.roc_short = 2;
    p.entries.roc_long = 3;
    p.entries.cooldown_bars = 0;
    p.risk.atr_period = 3;
    p.risk.max_position_fraction = dec!(0.5);
    p.risk.target_vol = 100.0;
    p
}

pub fn engine_with(params: SpotParams, symbols: &[&str], saved_model: Option<String>) -> SpotLiveEngine {
    SpotLiveEngine::new(SpotEngineConfig {
        params,
        symbols: symbols.iter().map(|s| (sym(s), rules(&sym(s)))).collect(),
        interval_ms: HOUR,
        session_ms: 1,
        capital: dec!(10000),
        saved_model,
    })
}

pub fn places(cmds: &[Command]) -> Vec<OrderRequest> {
    cmds.iter().filter_map(|c| if let Command::Place(o) = c { Some(o.clone()) } else { None }).collect()
}

pub fn cancels(cmds: &[Command]) -> Vec<ClientOrderId> {
    cmds.iter()
        .filter_map(|c| if let Command::Cancel { id, .. } = c { Some(id.clone()) } else { None })
        .collect()
}

pub fn records<'a>(cmds: &'a [Command], kind: &str) -> Vec<&'a serde_json::Value> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Record { kind: k, fields, .. } if *k == kind => Some(fields),
            _ => None,
        })
        .collect()
}

pub fn critical(cmds: &[Command]) -> Vec<&str> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Alert { level: AlertLevel::Critical, text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

pub fn fill(
    order: &OrderRequest,
    qty: Decimal,
    price: Decimal,
    fee: Decimal,
    fee_asset: &str,
    trade: &str,
    t: i64,
) -> Fill {
    Fill {
        client_order_id: order.client_order_id.clone(),
        trade_id: trade.into(),
        symbol: order.symbol.clone(),
        side: order.side,
        qty: Qty::new(qty),
        price: Price::new(price),
        fee,
        fee_asset: fee_asset.into(),
        time_exchange: t,
    }
}

pub fn update(
    order: &OrderRequest,
    status: OrderStatus,
    filled: Decimal,
    fill: Option<Fill>,
    t: i64,
) -> OrderUpdate {
    OrderUpdate {
        client_order_id: order.client_order_id.clone(),
        venue_order_id: Some("1".into()),
        symbol: order.symbol.clone(),
        side: order.side,
        status,
        filled_qty: Qty::new(filled),
        avg_price: fill.as_ref().map(|f| f.price),
        fill,
        reason: None,
        time_exchange: t,
    }
}

/// Every record the engine asked to journal, numbered as the journal would.
pub fn journal_of(cmds: &[Command], seq: &mut u64) -> Vec<JournalRecord> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Record { kind, ts, fields } => {
                *seq += 1;
                let fields = match fields {
                    serde_json::Value::Object(map) => map.clone(),
                    _ => serde_json::Map::new(),
                };
                // Through text, as the journal file holds it.
                let text = serde_json::to_string(&fields).unwrap();
                Some(JournalRecord {
                    seq: *seq,
                    ts: *ts,
                    kind: (*kind).to_owned(),
                    fields: serde_json::from_str(&text).unwrap(),
                })
            }
            _ => None,
        })
        .collect()
}

/// A spot venue for the engine: market orders fill at the next open of their pair with
/// slippage against the trader, resting stops fill inside the bar (at the open when it opens at
/// or under the stop, else at the stop), less slippage; cancels are confirmed at once. Fees at
/// `fee` of the value in USDT (the backtester's convention), or with `base_fee`, a buy's in the
/// base asset (Binance's). It journals the records and keeps the alerts.
#[derive(Debug, Default, Clone)]
pub struct SimVenue {
    pub fee: Decimal,
    pub slip: Decimal,
    pub base_fee: bool,
    pub market: Vec<OrderRequest>,
    pub stops: Vec<OrderRequest>,
    pub journal: Vec<JournalRecord>,
    pub alerts: Vec<String>,
    pub saved: Vec<String>,
    seq: u64,
    trades: u64,
}

impl SimVenue {
    pub fn new(params: &SpotParams) -> Self {
        Self { fee: params.costs.fee, slip: params.costs.slippage_bps / dec!(10000), ..Self::default() }
    }

    /// Carries out the engine's commands (and those their answers produce).
    pub fn execute(&mut self, engine: &mut SpotLiveEngine, cmds: Vec<Command>, t: i64) {
        self.journal.extend(journal_of(&cmds, &mut self.seq));
        for cmd in cmds {
            match cmd {
                Command::Place(order) => match order.kind {
                    OrderKind::Market => self.market.push(order),
                    _ => self.stops.push(order),
                },
                Command::Cancel { id, .. } => {
                    if let Some(k) = self.stops.iter().position(|o| o.client_order_id == id) {
                        let order = self.stops.remove(k);
                        let answer =
                            engine.on_order_update(&update(&order, OrderStatus::Canceled, dec!(0), None, t));
                        self.execute(engine, answer, t);
                    }
                }
                Command::Alert { text, .. } => self.alerts.push(text),
                Command::SaveFile { contents, .. } => self.saved.push(contents),
                _ => {}
            }
        }
    }

    fn fill_order(&mut self, engine: &mut SpotLiveEngine, order: &OrderRequest, price: Decimal, t: i64) {
        self.trades += 1;
        let qty = order.qty.get();
        let base = order.symbol.as_str().trim_end_matches("USDT").to_owned();
        let (fee, asset) = match order.side {
            Side::Buy if self.base_fee => (qty * self.fee, base.as_str()),
            _ => (qty * price * self.fee, "USDT"),
        };
        let f = fill(order, qty, price, fee, asset, &format!("t{}", self.trades), t);
        let answer = engine.on_order_update(&update(order, OrderStatus::Filled, qty, Some(f), t));
        self.execute(engine, answer, t);
    }

    /// The open of `bar` and what trades inside it: sales, then buys, at the open; then stops.
    pub fn open(&mut self, engine: &mut SpotLiveEngine, symbol: &Symbol, bar: &Bar) {
        let t = bar.open_time_ms;
        let open = bar.open.get();
        for side in [Side::Sell, Side::Buy] {
            let due: Vec<OrderRequest> =
                self.market.iter().filter(|o| &o.symbol == symbol && o.side == side).cloned().collect();
            self.market.retain(|o| !(&o.symbol == symbol && o.side == side));
            for order in due {
                let price = match side {
                    Side::Buy => open * (Decimal::ONE + self.slip),
                    Side::Sell => open * (Decimal::ONE - self.slip),
                };
                self.fill_order(engine, &order, price, t);
            }
        }
        let hit: Vec<OrderRequest> = self
            .stops
            .iter()
            .filter(|o| &o.symbol == symbol)
            .filter(|o| matches!(o.kind, OrderKind::StopMarket { trigger } if bar.low <= trigger))
            .cloned()
            .collect();
        for order in hit {
            self.stops.retain(|o| o.client_order_id != order.client_order_id);
            let OrderKind::StopMarket { trigger } = order.kind else { continue };
            let level = if bar.open <= trigger { open } else { trigger.get() };
            self.fill_order(engine, &order, level * (Decimal::ONE - self.slip), t);
        }
    }

    /// One bar interval: every bar opens (and trades), then every bar closes, then the close is
    /// decided.
    pub fn step(&mut self, engine: &mut SpotLiveEngine, bars: &[(Symbol, Bar)]) {
        for (symbol, bar) in bars {
            self.open(engine, symbol, bar);
        }
        for (symbol, bar) in bars {
            let cmds = engine.on_bar_closed(symbol, *bar);
            self.execute(engine, cmds, bar.open_time_ms + HOUR);
        }
        let t = bars.first().map_or(0, |(_, b)| b.open_time_ms + HOUR);
        let cmds = engine.flush_closes();
        self.execute(engine, cmds, t);
    }
}

pub fn a() -> exchange_core::Symbol {
    sym("AUSDT")
}

/// Feeds `bars` closes until the engine sends an entry; returns it and the index of the bar
/// it was decided at.
pub fn until_entry(e: &mut SpotLiveEngine, bars: &[Bar]) -> (OrderRequest, usize) {
    for (k, bar) in bars.iter().enumerate() {
        let cmds = e.on_bar_closed(&a(), *bar);
        if let Some(order) = places(&cmds).into_iter().next() {
            return (order, k);
        }
    }
    panic!("no entry");
}

/// The first entry on a rising market, filled at the next open with the fee in the base asset
/// (`A`), and the commands the fill produced.
pub struct Entered {
    pub e: SpotLiveEngine,
    pub bars: Vec<Bar>,
    pub entry: OrderRequest,
    /// Index of the bar whose open filled the entry.
    pub k: usize,
    pub atr: f64,
    pub cmds: Vec<Command>,
}

pub fn entered_with(params: SpotParams, closes: &[f64]) -> Entered {
    let mut e = engine_with(params, &["AUSDT"], None);
    let bars = bars(0, closes);
    let (entry, k) = until_entry(&mut e, &bars);
    let atr = e.books().next().unwrap().1.entry.as_ref().unwrap().atr;
    let open = bars[k + 1].open.get();
    let q = entry.qty.get();
    let f = fill(&entry, q, open, q * dec!(0.001), "A", "t1", bars[k + 1].open_time_ms);
    let cmds = e.on_order_update(&update(&entry, OrderStatus::Filled, q, Some(f), bars[k + 1].open_time_ms));
    Entered { e, bars, entry, k: k + 1, atr, cmds }
}

pub fn entered() -> Entered {
    entered_with(easy_params(), &rising(60))
}

pub fn stop_of(cmds: &[Command]) -> OrderRequest {
    let stops: Vec<_> =
        places(cmds).into_iter().filter(|o| matches!(o.kind, OrderKind::StopMarket { .. })).collect();
    assert_eq!(stops.len(), 1, "{cmds:?}");
    stops[0].clone()
}

pub fn trigger(order: &OrderRequest) -> Decimal {
    match order.kind {
        OrderKind::StopMarket { trigger } => trigger.get(),
        _ => panic!("not a stop: {order:?}"),
    }
}

pub fn context() -> StatusContext {
    StatusContext { mode: "paper".into(), venue: "sim".into(), started_ms: 0, ready: true, last_error: None }
}
