//! Engine scenarios without a venue: the commands it emits for entries, protection, exits,
//! failures, the breaker and a flatten, and the books after fills.

use agent_core::backtest::ExitReason;
use exchange_core::{
    Bar, ClientOrderId, Fill, InstrumentRules, Notional, OrderKind, OrderPurpose, OrderRequest, OrderStatus,
    OrderUpdate, PositionSide, Price, Qty, Side, Symbol,
};
use risk_core::params::FuturesRiskParams;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::engine::failed_for_now;
use super::{Command, EngineConfig, LiveEngine};
use exchange_core::venue::VenueError;
use std::time::Duration;

const HOUR: i64 = 3_600_000;

fn btc() -> Symbol {
    Symbol::new("BTCUSDT").unwrap()
}

fn engine(params: FuturesRiskParams) -> LiveEngine {
    let rules = InstrumentRules::new(
        btc(),
        Price::new(dec!(0.10)),
        Qty::new(dec!(0.001)),
        Qty::new(dec!(0.001)),
        None,
        Notional::new(dec!(100)),
    )
    .unwrap();
    LiveEngine::new(EngineConfig {
        params: FuturesRiskParams { window: 2, ..params },
        symbols: vec![(btc(), rules)],
        interval_ms: HOUR,
        session_ms: 1,
    })
}

fn bar(i: i64, close: Decimal) -> Bar {
    let p = Price::new(close);
    Bar { open_time_ms: i * HOUR, open: p, high: p, low: p, close: p, volume: Decimal::ZERO }
}

fn places(cmds: &[Command]) -> Vec<&OrderRequest> {
    cmds.iter().filter_map(|c| if let Command::Place(o) = c { Some(o) } else { None }).collect()
}

fn cancels(cmds: &[Command]) -> Vec<&ClientOrderId> {
    cmds.iter().filter_map(|c| if let Command::Cancel { id, .. } = c { Some(id) } else { None }).collect()
}

fn fill(order: &OrderRequest, qty: Decimal, price: Decimal, trade: &str, t: i64) -> Fill {
    Fill {
        client_order_id: order.client_order_id.clone(),
        trade_id: trade.into(),
        symbol: btc(),
        side: order.side,
        qty: Qty::new(qty),
        price: Price::new(price),
        fee: qty * price * dec!(0.0005),
        fee_asset: "USDT".into(),
        time_exchange: t,
    }
}

fn update(
    order: &OrderRequest,
    status: OrderStatus,
    filled: Decimal,
    fill: Option<Fill>,
    t: i64,
) -> OrderUpdate {
    OrderUpdate {
        client_order_id: order.client_order_id.clone(),
        venue_order_id: Some("1".into()),
        symbol: btc(),
        side: order.side,
        status,
        filled_qty: Qty::new(filled),
        avg_price: None,
        fill,
        reason: None,
        time_exchange: t,
    }
}

/// Bars 100, 100, then 103 at the close of bar 2: m = 0.03 over two bars, long at 7x
/// (floor(5 * 0.03 / 0.02) = 7); size 10,000 * 0.05 / 0.03 / 103 = 161.812 BTC, floored.
fn entered() -> (LiveEngine, OrderRequest, Vec<Command>) {
    let mut e = engine(FuturesRiskParams::default());
    assert!(e.on_bar_closed(&btc(), bar(0, dec!(100))).iter().all(|c| !matches!(c, Command::Place(_))));
    assert!(places(&e.on_bar_closed(&btc(), bar(1, dec!(100)))).is_empty());
    let cmds = e.on_bar_closed(&btc(), bar(2, dec!(103)));
    assert!(cmds.contains(&Command::SetLeverage { symbol: btc(), leverage: 7 }), "{cmds:?}");
    let entry = places(&cmds)[0].clone();
    assert_eq!((entry.side, entry.kind, entry.qty.get()), (Side::Buy, OrderKind::Market, dec!(161.812)));
    assert_eq!(entry.client_order_id.purpose(), Some(OrderPurpose::Entry));
    let f = fill(&entry, dec!(161.812), dec!(103.5), "t1", 3 * HOUR);
    let cmds = e.on_order_update(&update(&entry, OrderStatus::Filled, dec!(161.812), Some(f), 3 * HOUR));
    (e, entry, cmds)
}

#[test]
fn entry_fill_places_stop_take_profit_and_trailing() {
    let (e, _, cmds) = entered();
    let orders = places(&cmds);
    assert_eq!(orders.len(), 3, "{cmds:?}");
    // From the fill at 103.5: stop 103.5 * 0.97 = 100.395 -> 100.4, take 108.675 -> 108.7.
    assert_eq!(orders[0].kind, OrderKind::StopMarket { trigger: Price::new(dec!(100.4)) });
    assert_eq!(orders[1].kind, OrderKind::TakeProfitMarket { trigger: Price::new(dec!(108.7)) });
    assert_eq!(orders[2].kind, OrderKind::TrailingStop { callback_rate: dec!(0.10), activation: None });
    assert!(orders.iter().all(|o| o.side == Side::Sell));
    assert!(orders[0].close_position && orders[1].close_position && orders[2].reduce_only);
    assert_eq!(orders[2].qty.get(), dec!(161.812));
    let (_, book, _) = e.books().next().unwrap();
    let pos = book.position.as_ref().unwrap();
    assert_eq!(
        (pos.side, pos.qty, pos.entry_price, pos.leverage),
        (PositionSide::Long, dec!(161.812), dec!(103.5), 7)
    );
    assert_eq!(pos.protection.ids().len(), 3);
    assert!(book.entry.is_none());
}

#[test]
fn stop_fill_closes_the_trade_and_cancels_the_rest() {
    let (mut e, _, cmds) = entered();
    let stop = places(&cmds)[0].clone();
    let f = fill(&stop, dec!(161.812), dec!(100.3), "t2", 5 * HOUR);
    let cmds =
        e.on_order_update(&update(&stop, OrderStatus::Filled, dec!(161.812), Some(f.clone()), 5 * HOUR));
    assert_eq!(cancels(&cmds).len(), 2, "{cmds:?}");
    let trade = &e.trades()[0];
    assert_eq!(trade.exit_reason, ExitReason::StopLoss);
    // Gross 161.812 * (100.3 - 103.5) = -517.7984; fees 0.0005 * 161.812 * (103.5 + 100.3) = 16.4886428.
    assert_eq!(trade.pnl, dec!(-534.2870428));
    assert_eq!(e.wallet(), dec!(10000) + trade.pnl);
    // The same trade reported again changes nothing.
    assert!(e.on_fill(&f).is_empty());
    assert_eq!(e.trades().len(), 1);
    // The cancelled protections ending do not count as vanished.
    let take = places(&entered().2)[1].clone();
    assert!(
        places(&e.on_order_update(&update(&take, OrderStatus::Canceled, dec!(0), None, 5 * HOUR))).is_empty()
    );
}

#[test]
fn a_vanished_or_refused_stop_closes_the_position_at_market() {
    let (mut e, _, cmds) = entered();
    let stop = places(&cmds)[0].clone();
    let cmds = e.on_order_update(&update(&stop, OrderStatus::Canceled, dec!(0), None, 4 * HOUR));
    let close = places(&cmds);
    assert_eq!(close.len(), 1, "{cmds:?}");
    assert_eq!((close[0].kind, close[0].side, close[0].reduce_only), (OrderKind::Market, Side::Sell, true));
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Alert { text, .. } if text.contains("closing at market")))
    );
    let f = fill(close[0], dec!(161.812), dec!(103), "t3", 4 * HOUR);
    e.on_fill(&f);
    assert_eq!(e.trades()[0].exit_reason, ExitReason::Unprotected);

    let (mut e, _, cmds) = entered();
    let take = places(&cmds)[1].clone();
    let refused = "venue rejected the request: code -4045: Reach max stop order limit.";
    let cmds = e.on_place_failed(&take.client_order_id, &btc(), refused, 4 * HOUR);
    let close = places(&cmds)[0].clone();
    e.on_fill(&fill(&close, dec!(161.812), dec!(103), "t9", 4 * HOUR));
    assert_eq!(e.trades()[0].exit_reason, ExitReason::Unprotected);
}

#[test]
fn a_level_already_passed_exits_for_that_level_at_market() {
    let (mut e, _, cmds) = entered();
    let take = places(&cmds)[1].clone();
    let cmds = e.on_place_failed(
        &take.client_order_id,
        &btc(),
        "code -2021: Order would immediately trigger.",
        4 * HOUR,
    );
    let close = places(&cmds)[0].clone();
    assert_eq!((close.kind, close.reduce_only), (OrderKind::Market, true));
    e.on_fill(&fill(&close, dec!(161.812), dec!(110), "t8", 4 * HOUR));
    assert_eq!(e.trades()[0].exit_reason, ExitReason::TakeProfit);
}

#[test]
fn breaker_trips_closes_everything_and_blocks_entries_until_the_next_day() {
    let (mut e, _, _) = entered();
    // The close of bar 3 at 90: unrealized 161.812 * (90 - 103.5) = -2,184.46, entry fee 8.37:
    // equity 7,807.17 is at or below 80% of the day's opening 10,000.
    let cmds = e.on_bar_closed(&btc(), bar(3, dec!(90)));
    assert!(cmds.iter().any(|c| matches!(c, Command::Record { kind: "breaker", .. })), "{cmds:?}");
    let close = places(&cmds);
    assert_eq!(close.len(), 1);
    assert_eq!(close[0].qty.get(), dec!(161.812));
    assert!(cancels(&cmds).is_empty(), "the protection rests until the close has filled");
    let filled = e.on_fill(&fill(close[0], dec!(161.812), dec!(90), "t4", 4 * HOUR));
    assert_eq!(cancels(&filled).len(), 3, "{filled:?}");
    assert_eq!(e.trades()[0].exit_reason, ExitReason::Breaker);
    // A strong signal the same day is refused; bars 4..=23 are still day 0.
    let mut entries = 0;
    for i in 4..24 {
        entries += places(&e.on_bar_closed(&btc(), bar(i, Decimal::from(90 + 5 * (i - 3))))).len();
    }
    assert_eq!(entries, 0);
    // The 00:00 bar of day 1 closes in day 1: entries are allowed again.
    let cmds = e.on_bar_closed(&btc(), bar(24, dec!(400)));
    assert_eq!(places(&cmds).len(), 1, "{cmds:?}");
}

#[test]
fn flatten_closes_and_halts() {
    let (mut e, _, _) = entered();
    let cmds = e.flatten(4 * HOUR);
    assert_eq!(places(&cmds).len(), 1);
    assert!(cancels(&cmds).is_empty(), "the protection rests until the close has filled");
    assert!(e.is_halted());
    let close = places(&cmds)[0].clone();
    let filled = e.on_fill(&fill(&close, dec!(161.812), dec!(104), "t5", 4 * HOUR));
    assert_eq!(cancels(&filled).len(), 3, "{filled:?}");
    assert_eq!(e.trades()[0].exit_reason, ExitReason::Flatten);
    assert!(places(&e.on_bar_closed(&btc(), bar(3, dec!(120)))).is_empty());
}

/// Every record the engine asked to journal, as the journal would hold them.
fn journal_of(cmds: &[Command], seq: &mut u64) -> Vec<agent_core::journal::JournalRecord> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::Record { kind, ts, fields } => {
                *seq += 1;
                let fields = match fields {
                    serde_json::Value::Object(map) => map.clone(),
                    _ => serde_json::Map::new(),
                };
                Some(agent_core::journal::JournalRecord {
                    seq: *seq,
                    ts: *ts,
                    kind: (*kind).to_owned(),
                    fields,
                })
            }
            _ => None,
        })
        .collect()
}

#[test]
fn replaying_the_journal_rebuilds_the_same_state() {
    let mut e = engine(FuturesRiskParams::default());
    let mut seq = 0;
    let mut journal = vec![];
    journal.extend(journal_of(&[e.begin_session(1, 0)], &mut seq));
    for (i, c) in [dec!(100), dec!(100), dec!(103)].into_iter().enumerate() {
        journal.extend(journal_of(&e.on_bar_closed(&btc(), bar(i as i64, c)), &mut seq));
    }
    let entry = places(&e.on_bar_closed(&btc(), bar(2, dec!(103)))).first().map(|o| (*o).clone());
    assert!(entry.is_none(), "a repeated bar decides nothing");
    let entry_id = e.books().next().unwrap().1.entry.as_ref().unwrap().id.clone();
    let entry = OrderRequest {
        client_order_id: entry_id,
        symbol: btc(),
        side: Side::Buy,
        kind: OrderKind::Market,
        qty: Qty::new(dec!(161.812)),
        reduce_only: false,
        close_position: false,
    };
    let f = fill(&entry, dec!(161.812), dec!(103.5), "t1", 3 * HOUR);
    let cmds = e.on_order_update(&update(&entry, OrderStatus::Filled, dec!(161.812), Some(f), 3 * HOUR));
    journal.extend(journal_of(&cmds, &mut seq));
    let stop = places(&cmds)[0].clone();
    journal.extend(journal_of(&e.on_funding(&btc(), dec!(-1.25), 8 * HOUR), &mut seq));
    journal.extend(journal_of(&e.on_bar_closed(&btc(), bar(3, dec!(101))), &mut seq));

    let mut rebuilt = engine(FuturesRiskParams::default());
    rebuilt.replay(&journal).unwrap();
    assert_eq!(rebuilt.wallet(), e.wallet());
    assert_eq!(rebuilt.equity(), e.equity());
    let (a, b) = (e.books().next().unwrap().1, rebuilt.books().next().unwrap().1);
    assert_eq!(a.position, b.position);
    assert_eq!(a.position.as_ref().unwrap().funding, dec!(-1.25));

    // Both close the same way on the same stop fill.
    let f = fill(&stop, dec!(161.812), dec!(100.3), "t2", 5 * HOUR);
    e.on_fill(&f);
    rebuilt.on_fill(&f);
    assert_eq!(e.trades(), rebuilt.trades());
    assert_eq!(rebuilt.trades()[0].exit_reason, ExitReason::StopLoss);
}

/// Regression (partial fills): the protection waited for the entry's last execution, which on
/// a partially filled order may come much later, leaving the filled part unprotected meanwhile.
#[test]
fn an_entry_is_protected_from_its_first_execution_and_its_trailing_stop_grows_with_it() {
    let mut e = engine(FuturesRiskParams::default());
    e.on_bar_closed(&btc(), bar(0, dec!(100)));
    e.on_bar_closed(&btc(), bar(1, dec!(100)));
    let entry = places(&e.on_bar_closed(&btc(), bar(2, dec!(103))))[0].clone();
    // The REST answer says FILLED, but no execution has been seen yet: nothing to protect.
    let cmds = e.on_order_update(&update(&entry, OrderStatus::Filled, dec!(161.812), None, 3 * HOUR));
    assert!(places(&cmds).is_empty(), "{cmds:?}");
    // Two partial executions arrive on the stream: the first is protected at once, and the
    // second replaces the trailing stop (sized for the first) by one for the whole position.
    let first = e.on_fill(&fill(&entry, dec!(100), dec!(103.4), "a", 3 * HOUR));
    assert_eq!(places(&first).len(), 3, "{first:?}");
    assert_eq!(places(&first)[2].qty.get(), dec!(100));
    let second = e.on_fill(&fill(&entry, dec!(61.812), dec!(103.6), "b", 3 * HOUR));
    let trailing = places(&second);
    assert_eq!(trailing.len(), 1, "{second:?}");
    assert_eq!((trailing[0].qty.get(), trailing[0].reduce_only), (dec!(161.812), true));
    assert_eq!(cancels(&second), [&places(&first)[2].client_order_id]);
    let (_, book, _) = e.books().next().unwrap();
    let pos = book.position.as_ref().unwrap();
    // Average of 100 @ 103.4 and 61.812 @ 103.6.
    assert_eq!(pos.entry_price, (dec!(100) * dec!(103.4) + dec!(61.812) * dec!(103.6)) / dec!(161.812));
    assert!(book.entry.is_none());
}

#[test]
fn an_entry_that_filled_nothing_frees_its_slot() {
    let mut e = engine(FuturesRiskParams::default());
    e.on_bar_closed(&btc(), bar(0, dec!(100)));
    e.on_bar_closed(&btc(), bar(1, dec!(100)));
    let entry = places(&e.on_bar_closed(&btc(), bar(2, dec!(103))))[0].clone();
    let cmds = e.on_order_update(&update(&entry, OrderStatus::Expired, dec!(0), None, 3 * HOUR));
    assert!(cmds.iter().any(|c| matches!(c, Command::Record { kind: "entry_failed", .. })));
    assert!(!e.books().next().unwrap().1.is_busy());
}

#[test]
fn siblings_cancelled_by_the_venue_after_a_trigger_are_not_a_vanished_stop() {
    let (mut e, _, cmds) = entered();
    let (stop, take) = (places(&cmds)[0].clone(), places(&cmds)[1].clone());
    // The stop triggers; the venue cancels the take profit before the stop's fill arrives.
    let mut triggered = update(&stop, OrderStatus::New, dec!(0), None, 5 * HOUR);
    triggered.reason = Some("TRIGGERED: order 4000000009".into());
    assert!(places(&e.on_order_update(&triggered)).is_empty());
    let cmds = e.on_order_update(&update(&take, OrderStatus::Canceled, dec!(0), None, 5 * HOUR));
    assert!(places(&cmds).is_empty(), "no market close for a sibling's cancel: {cmds:?}");
    // The fill then arrives under a venue-made id, and is the stop loss.
    let mut f = fill(&stop, dec!(161.812), dec!(100.3), "t7", 5 * HOUR);
    f.client_order_id = ClientOrderId::new("venue_made_1").unwrap();
    e.on_fill(&f);
    assert_eq!(e.trades()[0].exit_reason, ExitReason::StopLoss);
}

#[test]
fn a_failed_market_close_is_sent_again_at_the_next_bar() {
    let (mut e, _, _) = entered();
    let close = places(&e.flatten(4 * HOUR))[0].clone();
    let cmds = e.on_place_failed(&close.client_order_id, &btc(), "-1008 Server busy", 4 * HOUR);
    assert!(places(&cmds).is_empty());
    // Flatten halts entries, but the close itself is retried.
    let again = e.on_bar_closed(&btc(), bar(3, dec!(104)));
    let retried = places(&again);
    assert_eq!(retried.len(), 1, "{again:?}");
    assert_eq!((retried[0].kind, retried[0].reduce_only), (OrderKind::Market, true));
    assert_ne!(retried[0].client_order_id, close.client_order_id, "a new id for a new order");
}

#[test]
fn an_expired_protective_is_checked_with_the_venue_before_it_counts_as_vanished() {
    let (mut e, _, cmds) = entered();
    let take = places(&cmds)[1].clone();
    // FINISHED without its fill reads as Expired: ask the venue first, close nothing yet.
    let first = e.on_order_update(&update(&take, OrderStatus::Expired, dec!(0), None, 5 * HOUR));
    assert!(first.contains(&Command::Reconcile), "{first:?}");
    assert!(places(&first).is_empty());
    // The query says it filled: the rebuilt fill closes the trade as a take profit.
    let filled = update(&take, OrderStatus::Filled, dec!(161.812), None, 5 * HOUR);
    e.on_order_update(&filled);
    e.on_fill(&fill(&take, dec!(161.812), dec!(108.7), "q1", 5 * HOUR));
    assert_eq!(e.trades()[0].exit_reason, ExitReason::TakeProfit);

    // Still unfilled when reported again: now it has vanished, and the position is closed.
    let (mut e, _, cmds) = entered();
    let stop = places(&cmds)[0].clone();
    e.on_order_update(&update(&stop, OrderStatus::Expired, dec!(0), None, 5 * HOUR));
    let second = e.on_order_update(&update(&stop, OrderStatus::Expired, dec!(0), None, 5 * HOUR));
    assert_eq!(places(&second).len(), 1, "{second:?}");
}

#[test]
fn a_liquidation_fill_closes_the_position_as_a_liquidation() {
    let (mut e, _, _) = entered();
    let liq = OrderRequest {
        client_order_id: ClientOrderId::new("autoclose-1767233520000").unwrap(),
        symbol: btc(),
        side: Side::Sell,
        kind: OrderKind::Market,
        qty: Qty::new(dec!(161.812)),
        reduce_only: true,
        close_position: false,
    };
    let mut f = fill(&liq, dec!(161.812), dec!(90.5), "368170", 4 * HOUR);
    f.fee = dec!(0);
    let cmds = e.on_order_update(&update(&liq, OrderStatus::Filled, dec!(161.812), Some(f), 4 * HOUR));
    assert!(e.books().next().unwrap().1.position.is_none(), "{cmds:?}");
    assert_eq!(e.trades()[0].exit_reason, ExitReason::Liquidation);
}

#[test]
fn a_real_fill_arriving_after_its_rebuilt_twin_is_not_counted_twice() {
    let mut e = engine(FuturesRiskParams::default());
    e.on_bar_closed(&btc(), bar(0, dec!(100)));
    e.on_bar_closed(&btc(), bar(1, dec!(100)));
    let entry = places(&e.on_bar_closed(&btc(), bar(2, dec!(103))))[0].clone();
    e.on_order_update(&update(&entry, OrderStatus::Filled, dec!(161.812), None, 3 * HOUR));
    // The stream was down: reconciliation rebuilds the fill from the order query.
    let rebuilt = fill(&entry, dec!(161.812), dec!(103.5), "query-1", 3 * HOUR);
    assert_eq!(places(&e.on_rebuilt_fill(&rebuilt)).len(), 3, "protection after the rebuilt fill");
    // The real execution then arrives late, under its own trade id: already counted.
    let late = fill(&entry, dec!(161.812), dec!(103.5), "366456", 3 * HOUR);
    let cmds = e.on_fill(&late);
    assert!(cmds.iter().all(|c| matches!(c, Command::Record { kind: "fill_covered", .. })), "{cmds:?}");
    // Reported a second time (Binance sends the trade inside the order update and on its own).
    assert!(e.on_fill(&late).is_empty());
    assert_eq!(e.books().next().unwrap().1.position.as_ref().unwrap().qty, dec!(161.812));
}

/// A real execution only partly covered by the quantity rebuilt from a query counts its rest,
/// with the fee in proportion: the covered part's fee was estimated in the rebuilt fill.
#[test]
fn a_real_fill_partly_covered_by_a_rebuilt_one_counts_the_rest_and_its_share_of_the_fee() {
    let mut e = engine(FuturesRiskParams::default());
    let (mut seq, mut journal) = (0, vec![]);
    let mut step = |cmds: Vec<Command>| {
        journal.extend(journal_of(&cmds, &mut seq));
        cmds
    };
    for (i, c) in [dec!(100), dec!(100)].into_iter().enumerate() {
        let cmds = e.on_bar_closed(&btc(), bar(i as i64, c));
        step(cmds);
    }
    let cmds = e.on_bar_closed(&btc(), bar(2, dec!(103)));
    let entry = places(&step(cmds))[0].clone();
    let cmds = e.on_order_update(&update(&entry, OrderStatus::Filled, dec!(161.812), None, 3 * HOUR));
    step(cmds);
    // The stream was down: a query accounted 120 of it.
    let cmds = e.on_rebuilt_fill(&fill(&entry, dec!(120), dec!(103.5), "query-1", 3 * HOUR));
    step(cmds);
    let cmds = e.on_fill(&fill(&entry, dec!(100), dec!(103.5), "1", 3 * HOUR));
    let first = step(cmds);
    assert!(first.iter().all(|c| matches!(c, Command::Record { kind: "fill_covered", .. })), "{first:?}");
    // 20 of the second execution were in the rebuilt fill; its other 41.812 count now.
    let second = fill(&entry, dec!(61.812), dec!(103.5), "2", 3 * HOUR);
    let cmds = e.on_fill(&second);
    let cmds = step(cmds);
    let counted: Vec<&serde_json::Value> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Record { kind: "fill", fields, .. } => Some(fields),
            _ => None,
        })
        .collect();
    assert_eq!(counted.len(), 1, "{cmds:?}");
    assert_eq!(counted[0]["qty"], "41.812");
    let fee = second.fee * dec!(41.812) / dec!(61.812);
    assert_eq!(counted[0]["fee"], fee.to_string(), "the rest's share of the fee");
    assert!(e.on_fill(&second).is_empty(), "reported twice, counted once");
    assert_eq!(e.books().next().unwrap().1.position.as_ref().unwrap().qty, dec!(161.812));
    // The journal replays to the same books and wallet.
    let mut replayed = engine(FuturesRiskParams::default());
    replayed.replay(&journal).unwrap();
    assert_eq!(replayed.books().next().unwrap().1.position.as_ref().unwrap().qty, dec!(161.812));
    assert_eq!(replayed.wallet(), e.wallet());
}

/// A close decided by the runtime's deadline (one symbol's bar never came) is journaled, so a
/// replay decides at the same point: the same pending entry, nothing left gathering.
#[test]
fn a_flushed_close_replays_to_the_same_decision() {
    let eth = Symbol::new("ETHUSDT").unwrap();
    let two = || {
        let mut e = engine(FuturesRiskParams::default());
        let mut config = EngineConfig {
            params: e.params().clone(),
            symbols: Vec::new(),
            interval_ms: HOUR,
            session_ms: 1,
        };
        for s in [btc(), eth.clone()] {
            let rules = InstrumentRules::new(
                s.clone(),
                Price::new(dec!(0.10)),
                Qty::new(dec!(0.001)),
                Qty::new(dec!(0.001)),
                None,
                Notional::new(dec!(100)),
            )
            .unwrap();
            config.symbols.push((s, rules));
        }
        e = LiveEngine::new(config);
        e
    };
    let mut e = two();
    let mut seq = 0;
    let mut journal = journal_of(&[e.begin_session(1, 0)], &mut seq);
    for i in 0..2 {
        for s in [btc(), eth.clone()] {
            journal.extend(journal_of(&e.on_bar_closed(&s, bar(i, dec!(100))), &mut seq));
        }
    }
    journal.extend(journal_of(&e.on_bar_closed(&btc(), bar(2, dec!(103))), &mut seq));
    assert!(e.is_gathering(), "ETH's bar of that hour has not come");
    let flushed = e.flush_closes();
    assert_eq!(places(&flushed).len(), 1, "the deadline decides BTC's entry: {flushed:?}");
    journal.extend(journal_of(&flushed, &mut seq));

    let mut rebuilt = two();
    rebuilt.replay(&journal).unwrap();
    assert!(!rebuilt.is_gathering());
    let entry =
        |e: &LiveEngine| e.books().next().and_then(|(_, b, _)| b.entry.as_ref().map(|x| x.id.clone()));
    assert!(entry(&e).is_some());
    assert_eq!(entry(&rebuilt), entry(&e));
}

/// Regression: a stop loss answered 503 "Service Unavailable." closed the position at market,
/// cancelling its other protection; when the close was refused too (the same 5xx spell) the
/// position stayed open and unprotected until the next bar.
#[test]
fn a_protective_order_refused_for_now_is_placed_again_not_closed() {
    let (mut e, _, cmds) = entered();
    let (stop, take, trail) = (places(&cmds)[0].clone(), places(&cmds)[1].clone(), places(&cmds)[2].clone());
    let busy = VenueError::Unavailable { status: 503, msg: "Service Unavailable.".into() };
    let cmds = e.on_place_failed(&stop.client_order_id, &btc(), &busy.to_string(), 4 * HOUR);
    assert!(places(&cmds).is_empty() && cancels(&cmds).is_empty(), "no close, nothing cancelled: {cmds:?}");
    assert!(cmds.contains(&Command::Reconcile), "the next check places it: {cmds:?}");
    // The check finds the stop missing (the take profit and trailing stop rest): only the stop
    // goes out again, under a new id, at the same level.
    let cmds = e.reprotect(&btc(), std::slice::from_ref(&stop.client_order_id), 4 * HOUR);
    let again = places(&cmds);
    assert_eq!(again.len(), 1, "{cmds:?}");
    assert_eq!((again[0].kind, again[0].close_position), (stop.kind, true));
    assert_ne!(again[0].client_order_id, stop.client_order_id);
    let pos = e.books().next().unwrap().1.position.clone().unwrap();
    assert_eq!(pos.protection.stop_loss.as_ref(), Some(&again[0].client_order_id));
    assert_eq!(
        (pos.protection.take_profit, pos.protection.trailing),
        (Some(take.client_order_id), Some(trail.client_order_id))
    );
    // A protection that is complete is left alone.
    assert!(e.reprotect(&btc(), &[], 4 * HOUR).is_empty());
}

/// The engine reads a failure's class from its text (all the journal keeps): the same answer as
/// `VenueError::is_retryable` for every error the venue client returns.
#[test]
fn failures_for_now_are_read_from_the_venue_error_text() {
    let errors = [
        VenueError::Rejected { code: -2010, msg: "insufficient".into() },
        VenueError::Rejected { code: -1008, msg: "Server is currently overloaded".into() },
        VenueError::Rejected { code: -1015, msg: "Too many new orders".into() },
        VenueError::Rejected { code: -1003, msg: "Too many requests".into() },
        VenueError::Rejected { code: -2021, msg: "Order would immediately trigger.".into() },
        VenueError::InvalidOrder { filter: "LOT_SIZE", detail: "qty".into() },
        VenueError::RateLimited { retry_after: Duration::from_secs(1) },
        VenueError::Banned { retry_after: Duration::from_secs(3) },
        VenueError::UnknownOutcome { client_order_id: "x".into(), source: "timeout".into() },
        VenueError::NeverAccepted { client_order_id: "x".into(), cause: "timeout".into() },
        VenueError::Unavailable { status: 503, msg: "Service Unavailable.".into() },
        VenueError::Transport { message: "POST /fapi/v1/algoOrder".into(), source: None },
        VenueError::ClockSkew { msg: "Timestamp for this request is outside of the recvWindow.".into() },
        VenueError::Auth { code: -2015, msg: "Invalid API-key".into() },
        VenueError::NotFound { what: "-2013: Order does not exist.".into() },
        VenueError::Unsupported { what: "x" },
        VenueError::Config("x".into()),
        VenueError::Closed,
    ];
    for error in errors {
        assert_eq!(failed_for_now(&error.to_string()), error.is_retryable(), "{error}");
    }
    assert!(failed_for_now("unknown to the venue after restart"));
    assert!(failed_for_now("the venue does not know it"));
}

/// Regression: kill -9 after the entry filled and before its protection reached the venue. The
/// replayed journal expects three protective orders the venue never got; they are placed again
/// (not taken for vanished orders, which would close the position), and a replay of that gives
/// the same ids.
#[test]
fn protection_the_venue_never_got_is_placed_again_and_replays_the_same() {
    let mut e = engine(FuturesRiskParams::default());
    let mut seq = 0;
    let mut journal = journal_of(&[e.begin_session(1, 0)], &mut seq);
    for (i, c) in [dec!(100), dec!(100), dec!(103)].into_iter().enumerate() {
        journal.extend(journal_of(&e.on_bar_closed(&btc(), bar(i as i64, c)), &mut seq));
    }
    let entry = e.books().next().unwrap().1.entry.clone().unwrap();
    let order = OrderRequest {
        client_order_id: entry.id.clone(),
        symbol: btc(),
        side: Side::Buy,
        kind: OrderKind::Market,
        qty: Qty::new(entry.qty),
        reduce_only: false,
        close_position: false,
    };
    let f = fill(&order, entry.qty, dec!(103.5), "t1", 3 * HOUR);
    let cmds = e.on_order_update(&update(&order, OrderStatus::Filled, entry.qty, Some(f), 3 * HOUR));
    journal.extend(journal_of(&cmds, &mut seq));
    let lost: Vec<ClientOrderId> = places(&cmds).iter().map(|o| o.client_order_id.clone()).collect();
    // The restart: a new session, and the reconciliation finds none of the three resting.
    let mut restarted = engine(FuturesRiskParams::default());
    restarted.replay(&journal).unwrap();
    journal.extend(journal_of(&[restarted.begin_session(2, 4 * HOUR)], &mut seq));
    let cmds = restarted.reprotect(&btc(), &lost, 4 * HOUR);
    assert_eq!(places(&cmds).len(), 3, "{cmds:?}");
    assert!(places(&cmds).iter().all(|o| !lost.contains(&o.client_order_id)));
    journal.extend(journal_of(&cmds, &mut seq));
    let mut again = engine(FuturesRiskParams::default());
    again.replay(&journal).unwrap();
    let (a, b) = (restarted.books().next().unwrap().1, again.books().next().unwrap().1);
    assert_eq!(a.position, b.position, "the replay knows the new ids");
}

/// Regression: a market close cancelled the protection before it went out, so a close refused
/// for now left the position unprotected until its retry at the next bar.
#[test]
fn a_failed_close_leaves_the_protection_resting_until_its_retry_fills() {
    let (mut e, _, _) = entered();
    let close = places(&e.flatten(4 * HOUR))[0].clone();
    let busy = VenueError::Unavailable { status: 503, msg: "Service Unavailable.".into() };
    let cmds = e.on_place_failed(&close.client_order_id, &btc(), &busy.to_string(), 4 * HOUR);
    assert!(cancels(&cmds).is_empty(), "{cmds:?}");
    assert_eq!(e.books().next().unwrap().1.position.as_ref().unwrap().protection.ids().len(), 3);
}

/// Regression: a liquidation during a user-stream gap left the journal with a position the venue
/// no longer had and no fill of ours to explain it, and the agent stopped on the mismatch. The
/// venue's trade history explains it: the liquidation is accounted and nothing is left to adopt.
#[test]
fn a_liquidation_lost_in_a_stream_gap_is_read_back_from_the_trade_history() {
    let (mut e, entry, _) = entered();
    let liquidation = OrderRequest {
        client_order_id: ClientOrderId::new("autoclose-1767233520000000017").unwrap(),
        side: Side::Sell,
        ..entry.clone()
    };
    let mut lost = fill(&liquidation, dec!(161.812), dec!(90.5), "368170", 4 * HOUR);
    lost.fee = dec!(0);
    // The venue has no position; its history also holds the entry's own execution, already
    // counted. The runtime reads the history the engine asks for and feeds it as fills.
    let holdings = agent_core::live::Holdings::default();
    let history = [fill(&entry, dec!(161.812), dec!(103.5), "t1", 3 * HOUR), lost];
    let wanted = super::reconcile::history_wanted(&e, &holdings);
    assert_eq!(wanted, vec![(btc(), 3 * HOUR)]);
    let mut cmds = Vec::new();
    for f in history.iter().filter(|f| f.time_exchange >= wanted[0].1) {
        cmds.extend(e.on_fill(f));
    }
    cmds.extend(super::reconcile::reconcile_holdings(&mut e, &holdings, false, 5 * HOUR).unwrap());
    assert!(e.books().next().unwrap().1.position.is_none(), "{cmds:?}");
    assert_eq!(e.trades().len(), 1);
    assert_eq!(e.trades()[0].exit_reason, ExitReason::Liquidation);
    let fills = cmds.iter().filter(|c| matches!(c, Command::Record { kind: "fill", .. })).count();
    assert_eq!(fills, 1, "the entry's execution is not counted again: {cmds:?}");
}

/// The forming bar prepares the leverage its entry would take, in the bar's last minutes only,
/// once per value, never while the symbol is busy; the close still decides and sends its own.
#[test]
fn a_forming_bar_sets_the_entry_leverage_ahead_of_the_close() {
    let mut e = engine(FuturesRiskParams::default());
    for (i, c) in [dec!(100), dec!(100)].into_iter().enumerate() {
        e.on_bar_closed(&btc(), bar(i as i64, c));
    }
    let forming = |close| Bar { open_time_ms: 2 * HOUR, ..bar(2, close) };
    let set = |cmds: &[Command]| {
        cmds.iter()
            .filter_map(
                |c| if let Command::SetLeverage { leverage, .. } = c { Some(*leverage) } else { None },
            )
            .collect::<Vec<_>>()
    };
    // Early in the bar: nothing, even with a signal.
    assert!(e.on_bar_forming(&btc(), forming(dec!(104)), 2 * HOUR + 10 * 60_000).is_empty());
    // In the last minutes: the would-be leverage (m = 0.04: 10x), once.
    let late = 3 * HOUR - 60_000;
    assert_eq!(set(&e.on_bar_forming(&btc(), forming(dec!(104)), late)), vec![10]);
    assert!(e.on_bar_forming(&btc(), forming(dec!(104.01)), late + 1).is_empty(), "same leverage: not again");
    assert_eq!(set(&e.on_bar_forming(&btc(), forming(dec!(105)), late + 2)), vec![12]);
    assert!(e.on_bar_forming(&btc(), forming(dec!(101)), late + 3).is_empty(), "no signal: nothing");
    // No preparation touched the books: the close decides as always.
    assert!(e.books().next().unwrap().1.entry.is_none());
    let close = e.on_bar_closed(&btc(), bar(2, dec!(105)));
    assert_eq!(set(&close), vec![12]);
    assert_eq!(places(&close).len(), 1);
    // Busy (an entry in flight): nothing prepared for the next bar.
    let next = Bar { open_time_ms: 3 * HOUR, ..bar(3, dec!(110)) };
    assert!(e.on_bar_forming(&btc(), next, 4 * HOUR - 60_000).is_empty());
}
