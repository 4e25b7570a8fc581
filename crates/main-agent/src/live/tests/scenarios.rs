//! Scenarios command by command on one pair (`AUSDT`, easy parameters): the entry, its stop
//! after a fill whose fee is in the base asset, the ratchet's cancel-then-place, a stop that
//! vanishes or is refused, a stop fill's P&L, the daily loss cap, a flatten, odd venue data,
//! fills rebuilt from queries, seeding and the gate model, and the status.

use agent_core::live::{Command, LiveEngine};
use agent_core::spot::{SpotExitReason, SpotParams, trailing_stop_level};
use exchange_core::{AgentTag, OrderKind, OrderPurpose, OrderStatus, Price, Qty, Side};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::sim::{
    Entered, HOUR, T0, a, bars, cancels, context, critical, easy_params, engine_with, entered, fill,
    journal_of, places, records, rising, rules, stop_of, sym, trigger, until_entry, update,
};
use crate::live::{MODEL_FILE, StopState};

#[test]
fn an_entry_is_a_market_buy_on_the_step_with_its_cash_set_aside() {
    let mut e = engine_with(easy_params(), &["AUSDT"], None);
    let bars = bars(0, &rising(60));
    let mut sent = None;
    for (k, bar) in bars.iter().enumerate() {
        let cmds = e.on_bar_closed(&a(), *bar);
        if let Some(order) = places(&cmds).into_iter().next() {
            sent = Some((order, k, records(&cmds, "order_sent").len()));
            break;
        }
    }
    let (order, k, journaled) = sent.expect("a rising market signals");
    assert_eq!(journaled, 1, "the order is journaled before it goes out");
    assert_eq!((order.side, order.kind, order.reduce_only), (Side::Buy, OrderKind::Market, false));
    assert_eq!(order.client_order_id.agent(), Some(AgentTag::Main));
    assert_eq!(order.client_order_id.purpose(), Some(OrderPurpose::Entry));
    // Half the equity (max_position_fraction 0.5 binds), on the 0.001 step.
    let close = bars[k].close.get();
    let want = (dec!(5000) / close / dec!(0.001)).floor() * dec!(0.001);
    assert_eq!(order.qty.get(), want);
    let entry = e.books().next().unwrap().1.entry.clone().unwrap();
    assert_eq!(entry.reserved, want * close * dec!(1.001));
    assert_eq!(e.cash(), dec!(10000), "nothing paid before the fill");
    // A second entry cannot be decided while one is in flight.
    assert!(places(&e.on_bar_closed(&a(), bars[k + 1])).is_empty());
}

#[test]
fn the_stop_follows_the_fill_and_the_base_asset_fee() {
    let Entered { e, bars, entry, k, atr, cmds } = entered();
    let q = entry.qty.get();
    let open = bars[k].open.get();
    let held = q - q * dec!(0.001);
    let stop = stop_of(&cmds);
    assert_eq!((stop.side, stop.qty.get()), (Side::Sell, (held / dec!(0.001)).floor() * dec!(0.001)));
    assert_eq!(stop.client_order_id.purpose(), Some(OrderPurpose::StopLoss));
    assert_eq!(trigger(&stop), trailing_stop_level(&rules(&a()), open, atr, 3.0));
    assert_eq!(records(&cmds, "position_opened").len(), 1);
    let pos = e.books().next().unwrap().1.position.clone().unwrap();
    assert_eq!((pos.qty, pos.entry_price(), pos.fees), (held, open, q * dec!(0.001) * open));
    assert_eq!(e.cash(), dec!(10000) - q * open, "the fee came out of the coins, not the cash");
    assert!(e.books().next().unwrap().1.entry.is_none());
}

#[test]
fn a_higher_stop_is_placed_only_once_the_old_one_is_cancelled() {
    let Entered { mut e, bars, cmds, k, .. } = entered();
    let old = stop_of(&cmds);
    // The close of the entry bar and the next rising ones ratchet the stop up.
    let cmds = e.on_bar_closed(&a(), bars[k]);
    assert_eq!(cancels(&cmds), vec![old.client_order_id.clone()], "{cmds:?}");
    assert!(places(&cmds).is_empty(), "no second stop while the first locks the coins");
    assert_eq!(records(&cmds, "stop_move").len(), 1);
    // Another close before the cancel is confirmed places nothing (the cancel is sent again).
    let cmds = e.on_bar_closed(&a(), bars[k + 1]);
    assert!(places(&cmds).is_empty(), "{cmds:?}");
    let cmds =
        e.on_order_update(&update(&old, OrderStatus::Canceled, dec!(0), None, bars[k + 2].open_time_ms));
    let new = stop_of(&cmds);
    assert!(trigger(&new) > trigger(&old), "{} > {}", trigger(&new), trigger(&old));
    assert_eq!(new.qty, old.qty);
    assert_ne!(new.client_order_id, old.client_order_id);
    let level = e.books().next().unwrap().1.position.as_ref().unwrap().level;
    assert_eq!(trigger(&new), level, "at the level of the latest close");
    assert!(critical(&cmds).is_empty());
    // A close with no new high and a wider range (a larger ATR) leaves it where it is.
    let mut wide = bars[k + 2];
    wide.high = wide.open;
    wide.low = Price::new(wide.open.get() * dec!(0.95));
    wide.close = wide.open;
    let cmds = e.on_bar_closed(&a(), wide);
    assert!(cancels(&cmds).is_empty() && places(&cmds).is_empty(), "{cmds:?}");
}

#[test]
fn a_stop_that_vanishes_gets_the_holding_sold_at_market() {
    let Entered { mut e, cmds, bars, k, .. } = entered();
    let stop = stop_of(&cmds);
    let t = bars[k].open_time_ms + 60_000;
    let cmds = e.on_order_update(&update(&stop, OrderStatus::Expired, dec!(0), None, t));
    let sale = places(&cmds);
    assert_eq!(sale.len(), 1, "{cmds:?}");
    assert_eq!((sale[0].side, sale[0].kind, sale[0].qty), (Side::Sell, OrderKind::Market, stop.qty));
    assert_eq!(sale[0].client_order_id.purpose(), Some(OrderPurpose::Close));
    assert!(critical(&cmds).iter().any(|a| a.contains("selling at market")), "{cmds:?}");
    let q = sale[0].qty.get();
    e.on_fill(&fill(&sale[0], q, dec!(120), q * dec!(120) * dec!(0.001), "USDT", "s1", t));
    assert_eq!(e.trades()[0].exit_reason, SpotExitReason::Unprotected);
    assert!(e.books().next().unwrap().1.position.is_none());
}

#[test]
fn a_refused_stop_gets_the_holding_sold_at_market() {
    let Entered { mut e, cmds, .. } = entered();
    let stop = stop_of(&cmds);
    let cmds =
        e.on_place_failed(&stop.client_order_id, &a(), "code -2010: Order would trigger immediately.", 1);
    let sale = places(&cmds);
    assert_eq!(sale.len(), 1);
    assert!(critical(&cmds).is_empty(), "the price passed the stop: a trade, not an alarm");
    let q = sale[0].qty.get();
    e.on_fill(&fill(&sale[0], q, dec!(100), dec!(0), "USDT", "s1", 2));
    assert_eq!(e.trades()[0].exit_reason, SpotExitReason::TrailingStop);

    let Entered { mut e, cmds, .. } = entered();
    let stop = stop_of(&cmds);
    let cmds = e.on_place_failed(&stop.client_order_id, &a(), "code -1013: Filter failure: NOTIONAL", 1);
    assert_eq!(places(&cmds).len(), 1);
    assert_eq!(critical(&cmds).len(), 1);
    // The sale refused too: sent again at the next close, with a new id.
    let sale = places(&cmds)[0].clone();
    let cmds = e.on_place_failed(&sale.client_order_id, &a(), "-1003 Too many requests", 2);
    assert!(places(&cmds).is_empty());
    let next = bars(70, &[150.0])[0];
    let again = places(&e.on_bar_closed(&a(), next));
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].kind, again[0].side), (OrderKind::Market, Side::Sell));
    assert_ne!(again[0].client_order_id, sale.client_order_id);
}

#[test]
fn a_stop_fill_closes_the_trade_to_the_cent() {
    let Entered { mut e, cmds, entry, bars, k, .. } = entered();
    let stop = stop_of(&cmds);
    let (q, paid_price) = (entry.qty.get(), bars[k].open.get());
    let sold = stop.qty.get();
    let level = trigger(&stop);
    let t = bars[k].open_time_ms + 1_800_000;
    let f = fill(&stop, sold, level, (sold * level * dec!(0.001)).round_dp(8), "USDT", "s1", t);
    let cmds = e.on_order_update(&update(&stop, OrderStatus::Filled, sold, Some(f), t));
    let trade = e.trades()[0].clone();
    assert_eq!(trade.exit_reason, SpotExitReason::TrailingStop);
    assert_eq!(records(&cmds, "position_closed").len(), 1);
    // Paid q at the open; the fee (q / 1000 in A) left q * 0.999 of which `sold` went at the
    // stop, less 0.1 % in USDT; the dust left is valued at the exit price.
    let held = q * dec!(0.999);
    let received = sold * level - (sold * level * dec!(0.001)).round_dp(8);
    let dust = held - sold;
    assert_eq!(trade.pnl, received - q * paid_price + dust * level);
    assert_eq!(trade.qty.get(), held);
    assert_eq!(trade.fees, q * dec!(0.001) * paid_price + (sold * level * dec!(0.001)).round_dp(8));
    assert_eq!(e.cash(), dec!(10000) - q * paid_price + received);
    let book = e.books().next().unwrap().1.clone();
    assert_eq!(book.dust, dust);
    assert!(dust > Decimal::ZERO && dust < dec!(0.001));
    // Equity holds the dust at the latest close, nothing else.
    assert_eq!(e.equity(), e.cash() + dust * bars[k - 1].close.get());
    // This run's numbers by hand: 43.498 A bought at 114.9474 = 4,999.9820052 USDT; the fee
    // 0.043498 A leaves 43.454502 A; 43.454 sold at 110.9260 = 4,820.178404 less 4.8201784
    // fee = 4,815.3582256; dust 0.000502 A worth 0.055684852: P&L -184.568094748 (-184.57)
    // -184.57; fees 0.043498 * 114.9474 + 4.8201784 = 9.8201604052.
    assert_eq!((q, paid_price, sold, level), (dec!(43.498), dec!(114.9474), dec!(43.454), dec!(110.9260)));
    assert_eq!(trade.pnl, dec!(-184.5680947480));
    assert_eq!(trade.pnl.round_dp(2), dec!(-184.57));
    assert_eq!(trade.fees, dec!(9.8201604052));
}

#[test]
fn the_daily_loss_cap_sells_everything_and_waits_for_the_next_day() {
    let mut p = easy_params();
    p.risk.max_position_fraction = Decimal::ONE;
    p.risk.atr_multiple = 1000.0;
    let mut closes = rising(30);
    let top = closes[29];
    closes.push(top * 0.8);
    closes.extend((0..40).map(|i| top * 0.8 * 1.01f64.powi(i)));
    let all = bars(0, &closes);
    let mut e = engine_with(p, &["AUSDT"], None);
    let (entry, k) = until_entry(&mut e, &all);
    let q = entry.qty.get();
    let t = all[k + 1].open_time_ms;
    let f = fill(&entry, q, all[k + 1].open.get(), q * dec!(0.001), "A", "b1", t);
    let stop = stop_of(&e.on_order_update(&update(&entry, OrderStatus::Filled, q, Some(f), t)));
    for bar in &all[k + 1..30] {
        assert!(cancels(&e.on_bar_closed(&a(), *bar)).is_empty(), "the far stop never moves");
    }
    let cmds = e.on_bar_closed(&a(), all[30]);
    assert_eq!(records(&cmds, "breaker").len(), 1, "{cmds:?}");
    assert_eq!(critical(&cmds).len(), 1);
    assert_eq!(cancels(&cmds), vec![stop.client_order_id.clone()], "the stop goes first");
    assert!(places(&cmds).is_empty());
    let t = all[31].open_time_ms;
    let cmds = e.on_order_update(&update(&stop, OrderStatus::Canceled, dec!(0), None, t));
    let sale = places(&cmds);
    assert_eq!((sale.len(), sale[0].kind, sale[0].qty), (1, OrderKind::Market, stop.qty));
    let s = sale[0].qty.get();
    e.on_fill(&fill(&sale[0], s, all[31].open.get(), s * all[31].open.get() * dec!(0.001), "USDT", "s1", t));
    assert_eq!(e.trades()[0].exit_reason, SpotExitReason::DailyLossCap);
    let status = e.status(&context());
    assert!(status.breaker.tripped);
    assert_eq!(status.breaker.tripped_on.as_deref(), Some("2024-01-02"));
    // No buys for the rest of the UTC day (bar 47 closes at 00:00: still the day that tripped).
    for bar in &all[31..48] {
        assert!(places(&e.on_bar_closed(&a(), *bar)).is_empty());
    }
    // The next day's first close buys again.
    let cmds = e.on_bar_closed(&a(), all[48]);
    assert_eq!(places(&cmds).len(), 1, "{cmds:?}");
    assert_eq!(records(&cmds, "day_rollover").len(), 1);
    assert!(!e.status(&context()).breaker.tripped);
}

#[test]
fn flatten_cancels_the_stop_sells_and_halts() {
    let Entered { mut e, cmds, bars, k, .. } = entered();
    let stop = stop_of(&cmds);
    let cmds = e.flatten(bars[k].open_time_ms + 1);
    assert_eq!(cancels(&cmds), vec![stop.client_order_id.clone()]);
    assert!(e.is_halted());
    let cmds =
        e.on_order_update(&update(&stop, OrderStatus::Canceled, dec!(0), None, bars[k].open_time_ms + 2));
    let sale = places(&cmds)[0].clone();
    let q = sale.qty.get();
    e.on_fill(&fill(&sale, q, dec!(110), dec!(0.5), "USDT", "s1", bars[k].open_time_ms + 3));
    assert_eq!(e.trades()[0].exit_reason, SpotExitReason::Flatten);
    for bar in &bars[k..] {
        assert!(places(&e.on_bar_closed(&a(), *bar)).is_empty(), "halted");
    }
    assert!(e.status(&context()).breaker.tripped, "shown as halted");
}

#[test]
fn odd_venue_data_changes_nothing() {
    let Entered { mut e, cmds, .. } = entered();
    let stop = stop_of(&cmds);
    let before = (e.cash(), e.books().next().unwrap().1.position.clone());
    // A sale by hand (someone else's id), a fill on a pair not traded, unknown ids of ours,
    // a zero-quantity fill, a duplicate.
    let mut foreign = stop.clone();
    foreign.client_order_id = exchange_core::ClientOrderId::new("web_1234").unwrap();
    e.on_order_update(&update(
        &foreign,
        OrderStatus::Filled,
        dec!(1),
        Some(fill(&foreign, dec!(1), dec!(99), dec!(0.1), "USDT", "x1", 5)),
        5,
    ));
    let mut elsewhere = stop.clone();
    elsewhere.symbol = sym("ZZZUSDT");
    e.on_fill(&fill(&elsewhere, dec!(1), dec!(99), dec!(0), "USDT", "x2", 5));
    e.on_order_update(&update(&elsewhere, OrderStatus::Canceled, dec!(0), None, 5));
    let mut ghost = stop.clone();
    ghost.client_order_id = exchange_core::ClientOrderId::new("ma-sl-zz-99").unwrap();
    e.on_order_update(&update(&ghost, OrderStatus::Canceled, dec!(0), None, 5));
    e.on_place_failed(&ghost.client_order_id, &a(), "-2011 Unknown order", 5);
    e.on_place_failed(&ghost.client_order_id, &sym("ZZZUSDT"), "-2011 Unknown order", 5);
    let mut empty = fill(&stop, dec!(0), dec!(99), dec!(0), "USDT", "x3", 5);
    e.on_fill(&empty);
    empty.trade_id = "t1".into();
    e.on_fill(&empty);
    assert_eq!((e.cash(), e.books().next().unwrap().1.position.clone()), before);
    assert!(e.trades().is_empty());
    assert!(matches!(e.books().next().unwrap().1.position.as_ref().unwrap().stop, StopState::Resting { .. }));
}

#[test]
fn a_fill_rebuilt_from_a_query_is_not_counted_again_when_it_arrives() {
    let mut e = engine_with(easy_params(), &["AUSDT"], None);
    let all = bars(0, &rising(60));
    let (entry, k) = until_entry(&mut e, &all);
    assert_eq!(e.awaited_orders(), vec![(a(), entry.client_order_id.clone())]);
    // The stream was down: the query says it filled.
    let q = entry.qty.get();
    let mut answer = update(&entry, OrderStatus::Filled, q, None, all[k + 1].open_time_ms);
    answer.avg_price = Some(all[k + 1].open);
    let cmds = e.on_queried(&answer, all[k + 1].open_time_ms + 5);
    assert_eq!(records(&cmds, "fill_rebuilt").len(), 1);
    stop_of(&cmds);
    let held = e.books().next().unwrap().1.position.as_ref().unwrap().qty;
    assert_eq!(held, q * dec!(0.999), "the fee estimated in the base asset, as Binance takes it");
    // The real executions then arrive (twice, as Binance reports them).
    let late = fill(&entry, q, all[k + 1].open.get(), q * dec!(0.001), "A", "777", all[k + 1].open_time_ms);
    let cmds = e.on_fill(&late);
    assert_eq!(records(&cmds, "fill_covered").len(), 1);
    assert!(e.on_fill(&late).is_empty());
    assert_eq!(e.books().next().unwrap().1.position.as_ref().unwrap().qty, held);
    assert_eq!(e.cash(), dec!(10000) - q * all[k + 1].open.get());
}

#[test]
fn a_cancel_unconfirmed_at_the_next_close_is_sent_again() {
    let Entered { mut e, bars, cmds, k, .. } = entered();
    let old = stop_of(&cmds);
    assert_eq!(cancels(&e.on_bar_closed(&a(), bars[k])), vec![old.client_order_id.clone()]);
    let cmds = e.on_bar_closed(&a(), bars[k + 1]);
    assert_eq!(cancels(&cmds), vec![old.client_order_id.clone()], "{cmds:?}");
    assert!(cmds.contains(&Command::Reconcile));
    assert_eq!(e.awaited_orders(), vec![(a(), old.client_order_id.clone())]);
}

#[test]
fn the_status_shows_holdings_stops_and_regimes() {
    let Entered { e, cmds, entry, .. } = entered();
    let stop = stop_of(&cmds);
    let status = LiveEngine::status(&e, &context());
    assert_eq!(status.agent, "main-agent");
    assert_eq!(status.positions.len(), 1);
    let pos = &status.positions[0];
    assert_eq!((pos.leverage, pos.liquidation_price), (1, None));
    assert_eq!(pos.stop_ids, vec![stop.client_order_id.to_string()]);
    assert_eq!(pos.qty, Qty::new(entry.qty.get() * dec!(0.999)));
    assert_eq!(status.equity, e.equity());
    assert_eq!(status.regimes.get("AUSDT").map(String::as_str), e.regime(&a()).map(|r| r.as_str()));
    assert!(status.regimes.contains_key("AUSDT"));
    assert!(!status.regimes.contains_key("market"), "no BTCUSDT in this run: no market regime");
}

/// A market with every feature on and a small gate: seeding trains it and writes the model; a
/// saved model is installed at the next session and journaled.
#[test]
fn seeding_trains_the_gate_and_a_saved_model_starts_the_next_one() {
    let mut p = SpotParams::default();
    (p.gate.min_train_samples, p.gate.retrain_every) = (60, 48);
    let names = ["AUSDT", "BUSDT", "BTCUSDT"];
    let mut e = engine_with(p.clone(), &names, None);
    let wanted = usize::from(e.history_len());
    assert!(wanted <= 1000);
    assert!(wanted >= p.regime.vol_window + p.regime.vol_rank_min + p.gate.horizon, "{wanted}");
    let mut out = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let closes: Vec<f64> = (0..wanted)
            .map(|i| 100.0 + 10.0 * ((i as f64 + k as f64 * 7.0) * 0.05).sin() + i as f64 * 0.01)
            .collect();
        out.extend(e.seed_history(&sym(name), &bars(0, &closes)));
    }
    assert!(places(&out).is_empty(), "no decision on history");
    assert_eq!(records(&out, "history").len(), 3);
    let saved: Vec<_> = out
        .iter()
        .filter_map(|c| match c {
            Command::SaveFile { name, contents } if *name == MODEL_FILE => Some(contents.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(saved.len(), 1, "one file per batch of fits");
    assert!(e.gate().fits() >= 1);
    assert!(e.regime(&sym("BTCUSDT")).is_some(), "regimes warmed up on history");

    let mut next = engine_with(p.clone(), &names, Some(saved[0].clone()));
    assert!(next.gate().model().is_none(), "installed at the session, not before");
    let session = next.begin_session(2, T0);
    let Command::Record { fields, .. } = &session else { panic!("{session:?}") };
    assert_eq!(fields["gate_model"].as_str(), Some(saved[0].as_str()), "journaled for the replay");
    // JSON text keeps every weight to the last digit or so (serde_json parses floats to within
    // an ulp): the same answers, for all purposes.
    let (x, y) = (next.gate().model().unwrap(), e.gate().model().unwrap());
    let probe: Vec<f64> = x.scaler.mean.clone();
    assert!((x.predict(&probe) - y.predict(&probe)).abs() < 1e-12);

    let mut broken = engine_with(p, &names, Some("{not a model".into()));
    let cmds = broken.on_bar_closed(&sym("AUSDT"), bars(0, &[100.0])[0]);
    assert!(critical(&cmds).iter().any(|a| a.contains("saved gate model")), "{cmds:?}");
    assert!(broken.gate().model().is_none());
}

#[test]
fn an_entry_filled_after_a_flatten_is_sold_not_protected() {
    let mut e = engine_with(easy_params(), &["AUSDT"], None);
    let all = bars(0, &rising(60));
    let (entry, k) = until_entry(&mut e, &all);
    e.flatten(all[k].open_time_ms + HOUR);
    let q = entry.qty.get();
    let t = all[k + 1].open_time_ms + 10;
    let f = fill(&entry, q, all[k + 1].open.get(), q * dec!(0.001), "A", "b1", t);
    let cmds = e.on_order_update(&update(&entry, OrderStatus::Filled, q, Some(f), t));
    let sent = places(&cmds);
    assert_eq!(sent.len(), 1, "{cmds:?}");
    assert_eq!((sent[0].side, sent[0].kind), (Side::Sell, OrderKind::Market));
}

#[test]
fn an_entry_that_failed_after_a_partial_fill_protects_what_it_bought() {
    let mut e = engine_with(easy_params(), &["AUSDT"], None);
    let all = bars(0, &rising(60));
    let (entry, k) = until_entry(&mut e, &all);
    let t = all[k + 1].open_time_ms;
    e.on_fill(&fill(&entry, dec!(10), all[k + 1].open.get(), dec!(0.01), "A", "p1", t));
    let cmds = e.on_place_failed(&entry.client_order_id, &a(), "the venue does not know it", t + 5);
    assert_eq!(critical(&cmds).len(), 1);
    let stop = stop_of(&cmds);
    assert_eq!(stop.qty.get(), dec!(9.99));
    let book = e.books().next().unwrap().1;
    assert!(book.entry.is_none(), "its reservation is freed");
    assert_eq!(e.cash(), dec!(10000) - dec!(10) * all[k + 1].open.get());
}

/// A real execution only partly covered by a fill rebuilt from a query counts its rest, with
/// its share of the fee, and the journal replays to the same books.
#[test]
fn a_real_fill_partly_covered_by_a_rebuilt_one_counts_the_rest_and_replays() {
    let mut e = engine_with(easy_params(), &["AUSDT"], None);
    let (mut seq, mut journal) = (0, Vec::new());
    let all = bars(0, &rising(60));
    let mut entry = None;
    for (k, bar) in all.iter().enumerate() {
        let cmds = e.on_bar_closed(&a(), *bar);
        journal.extend(journal_of(&cmds, &mut seq));
        if let Some(order) = places(&cmds).into_iter().next() {
            entry = Some((order, k));
            break;
        }
    }
    let (entry, k) = entry.expect("an entry on a rising market");
    let (t, price) = (all[k + 1].open_time_ms, all[k + 1].open);
    let q = entry.qty.get();
    let (part, first) = ((q * dec!(0.6)).round_dp(3), (q * dec!(0.5)).round_dp(3));
    // The stream was down: the query says `part` has filled so far.
    let mut answer = update(&entry, OrderStatus::PartiallyFilled, part, None, t);
    answer.avg_price = Some(price);
    let cmds = e.on_queried(&answer, t + 5);
    assert_eq!(records(&cmds, "fill_rebuilt").len(), 1);
    journal.extend(journal_of(&cmds, &mut seq));
    // The real executions arrive: the first is covered whole, the second in part.
    let f1 = fill(&entry, first, price.get(), first * dec!(0.001), "A", "777", t);
    let cmds = e.on_fill(&f1);
    assert!(records(&cmds, "fill").is_empty(), "{cmds:?}");
    journal.extend(journal_of(&cmds, &mut seq));
    let f2 = fill(&entry, q - first, price.get(), (q - first) * dec!(0.001), "A", "778", t);
    let cmds = e.on_fill(&f2);
    let counted = records(&cmds, "fill");
    assert_eq!(counted.len(), 1, "{cmds:?}");
    assert_eq!(counted[0]["qty"], (q - part).to_string());
    assert_eq!(
        counted[0]["fee"],
        (f2.fee * (q - part) / (q - first)).to_string(),
        "the rest's share of the fee"
    );
    journal.extend(journal_of(&cmds, &mut seq));
    assert!(e.on_fill(&f2).is_empty(), "reported twice, counted once");
    let cmds = e.on_order_update(&update(&entry, OrderStatus::Filled, q, None, t));
    journal.extend(journal_of(&cmds, &mut seq));
    let held = e.books().next().unwrap().1.position.as_ref().unwrap().qty;
    assert_eq!(held, q * dec!(0.999), "every execution counted once, net of its base-asset fee");

    let mut replayed = engine_with(easy_params(), &["AUSDT"], None);
    replayed.replay(&journal).unwrap();
    assert_eq!(replayed.books().next().unwrap().1.position.as_ref().unwrap().qty, held);
    assert_eq!(replayed.cash(), e.cash());
}
