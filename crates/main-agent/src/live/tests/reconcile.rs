//! Reconciliation: the awaited orders and their answers, then the account's balances and open
//! orders against the books: a shortfall is a mismatch naming the pair (or, adopted, a trade
//! closed externally), dust is no mismatch, a surplus is left alone, a missing stop is placed
//! again, and orders of ours the engine does not know are cancelled.

use agent_core::live::{Holdings, LiveEngine};
use agent_core::spot::SpotExitReason;
use exchange_core::{Balance, ClientOrderId, Notional, OrderKind, OrderStatus};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::sim::{Entered, a, cancels, critical, entered, fill, places, records, stop_of, trigger, update};

fn balance(asset: &str, free: Decimal, locked: Decimal) -> Balance {
    Balance {
        asset: asset.into(),
        wallet: Notional::new(free + locked),
        free: Notional::new(free),
        locked: Notional::new(locked),
    }
}

/// The holding of `entered()` (0.999 of the bought quantity) with its stop resting.
fn held(e: &crate::live::SpotLiveEngine) -> Decimal {
    e.books().next().unwrap().1.position.as_ref().unwrap().qty
}

#[test]
fn less_than_the_books_is_a_mismatch_naming_the_pair() {
    let Entered { mut e, cmds, .. } = entered();
    let stop = stop_of(&cmds);
    let q = held(&e);
    let holdings = Holdings {
        balances: vec![balance("A", Decimal::ZERO, q - dec!(1)), balance("USDT", dec!(5000), Decimal::ZERO)],
        open_orders: vec![update(&stop, OrderStatus::New, dec!(0), None, 1)],
        ..Holdings::default()
    };
    let err = LiveEngine::reconcile_holdings(&mut e, &holdings, false, 10).unwrap_err();
    assert_eq!(err.problems.len(), 1);
    assert!(err.problems[0].starts_with("AUSDT:"), "{:?}", err.problems);
    assert!(err.to_string().contains("--adopt"));
    assert!(e.books().next().unwrap().1.position.is_some(), "nothing changed");
}

#[test]
fn adopting_a_shortfall_records_the_holding_closed_externally() {
    let Entered { mut e, cmds, bars, k, .. } = entered();
    let stop = stop_of(&cmds);
    let q = held(&e);
    let cash = e.cash();
    let holdings = Holdings { balances: vec![balance("A", dec!(0.5), Decimal::ZERO)], ..Holdings::default() };
    let cmds = e.reconcile_holdings(&holdings, true, 10).unwrap();
    assert_eq!(cancels(&cmds), vec![stop.client_order_id.clone()]);
    assert_eq!(records(&cmds, "external_close").len(), 1);
    assert_eq!(records(&cmds, "position_closed").len(), 1);
    assert_eq!(critical(&cmds).len(), 1);
    let trade = &e.trades()[0];
    assert_eq!(trade.exit_reason, SpotExitReason::External);
    let close = bars[k - 1].close.get();
    assert_eq!(trade.exit_price, close, "valued at the latest close");
    assert_eq!(e.cash(), cash + q * close);
    assert!(e.books().next().unwrap().1.position.is_none());
    assert!(places(&cmds).is_empty());
}

#[test]
fn a_holding_without_its_stop_gets_a_new_one_and_strange_orders_of_ours_are_cancelled() {
    let Entered { mut e, cmds, .. } = entered();
    let stop = stop_of(&cmds);
    let q = held(&e);
    let mut ours = stop.clone();
    ours.client_order_id = ClientOrderId::new("ma-en-zz-5").unwrap();
    let mut theirs = stop.clone();
    theirs.client_order_id = ClientOrderId::new("web_991").unwrap();
    let holdings = Holdings {
        balances: vec![balance("A", q, Decimal::ZERO)],
        open_orders: vec![
            update(&ours, OrderStatus::New, dec!(0), None, 1),
            update(&theirs, OrderStatus::New, dec!(0), None, 1),
        ],
        ..Holdings::default()
    };
    let cmds = e.reconcile_holdings(&holdings, false, 10).unwrap();
    let new = places(&cmds);
    assert_eq!(new.len(), 1, "{cmds:?}");
    assert!(matches!(new[0].kind, OrderKind::StopMarket { .. }));
    assert_eq!(
        (trigger(&new[0]), new[0].qty),
        (trigger(&stop), stop.qty),
        "the same level, the same quantity"
    );
    assert_ne!(new[0].client_order_id, stop.client_order_id);
    let cancelled = cancels(&cmds);
    assert!(cancelled.contains(&stop.client_order_id), "what may be left of the old one");
    assert!(cancelled.contains(&ours.client_order_id), "an order of ours the engine does not know");
    assert!(!cancelled.contains(&theirs.client_order_id), "someone else's order is left alone");
    assert_eq!(records(&cmds, "reprotect").len(), 1);
    // With the new stop resting, a second pass changes nothing.
    let holdings = Holdings {
        balances: vec![balance("A", Decimal::ZERO, q)],
        open_orders: vec![update(&new[0], OrderStatus::New, dec!(0), None, 11)],
        ..Holdings::default()
    };
    let cmds = e.reconcile_holdings(&holdings, false, 12).unwrap();
    assert!(places(&cmds).is_empty() && cancels(&cmds).is_empty(), "{cmds:?}");
}

#[test]
fn a_cancel_whose_order_is_gone_counts_as_confirmed() {
    let Entered { mut e, cmds, bars, k, .. } = entered();
    let stop = stop_of(&cmds);
    let q = held(&e);
    assert_eq!(cancels(&e.on_bar_closed(&a(), bars[k])), vec![stop.client_order_id.clone()]);
    let holdings = Holdings { balances: vec![balance("A", q, Decimal::ZERO)], ..Holdings::default() };
    let cmds = e.reconcile_holdings(&holdings, false, bars[k].open_time_ms + 3_600_001).unwrap();
    let new = places(&cmds);
    assert_eq!(new.len(), 1, "{cmds:?}");
    assert!(trigger(&new[0]) > trigger(&stop), "placed at the ratcheted level");
}

#[test]
fn dust_is_no_mismatch_and_a_surplus_is_left_alone() {
    let Entered { mut e, cmds, bars, k, .. } = entered();
    let stop = stop_of(&cmds);
    let sold = stop.qty.get();
    let t = bars[k].open_time_ms + 100;
    e.on_fill(&fill(&stop, sold, dec!(100), dec!(4.9), "USDT", "s1", t));
    let dust = e.books().next().unwrap().1.dust;
    assert!(dust > Decimal::ZERO);
    // The account holds exactly the dust: fine, nothing to do.
    let holdings = Holdings { balances: vec![balance("A", dust, Decimal::ZERO)], ..Holdings::default() };
    let cmds = e.reconcile_holdings(&holdings, false, t + 1).unwrap();
    assert!(places(&cmds).is_empty() && records(&cmds, "dust").is_empty(), "{cmds:?}");
    // Converted to BNB meanwhile: the dust goes.
    let holdings =
        Holdings { balances: vec![balance("A", Decimal::ZERO, Decimal::ZERO)], ..Holdings::default() };
    let cmds = e.reconcile_holdings(&holdings, false, t + 2).unwrap();
    assert_eq!(records(&cmds, "dust").len(), 1);
    assert_eq!(e.books().next().unwrap().1.dust, Decimal::ZERO);

    // A surplus beside a holding is not ours: noted, not touched.
    let Entered { mut e, cmds, .. } = entered();
    let stop = stop_of(&cmds);
    let q = held(&e);
    let holdings = Holdings {
        balances: vec![balance("A", dec!(3), q)],
        open_orders: vec![update(&stop, OrderStatus::New, dec!(0), None, 1)],
        ..Holdings::default()
    };
    let cmds = e.reconcile_holdings(&holdings, false, 10).unwrap();
    assert_eq!(records(&cmds, "holding_surplus").len(), 1);
    assert!(places(&cmds).is_empty() && cancels(&cmds).is_empty());
    assert_eq!(held(&e), q);
}

#[test]
fn a_stop_found_ended_unfilled_by_its_query_gets_the_holding_sold() {
    let Entered { mut e, cmds, .. } = entered();
    let stop = stop_of(&cmds);
    assert_eq!(e.awaited_orders(), vec![(a(), stop.client_order_id.clone())]);
    let cmds = e.on_queried(&update(&stop, OrderStatus::Expired, dec!(0), None, 50), 60);
    let sale = places(&cmds);
    assert_eq!((sale.len(), sale[0].kind), (1, OrderKind::Market));
    assert_eq!(critical(&cmds).len(), 1);

    // Found filled: the lost execution is rebuilt and closes the trade as a trailing stop.
    let Entered { mut e, cmds, .. } = entered();
    let stop = stop_of(&cmds);
    let mut answer = update(&stop, OrderStatus::Filled, stop.qty.get(), None, 50);
    answer.avg_price = Some(exchange_core::Price::new(dec!(99)));
    let cmds = e.on_queried(&answer, 60);
    assert_eq!(records(&cmds, "fill_rebuilt").len(), 1);
    assert!(places(&cmds).is_empty(), "{cmds:?}");
    let trade = &e.trades()[0];
    assert_eq!((trade.exit_reason, trade.exit_price), (SpotExitReason::TrailingStop, dec!(99)));
    // The sale's fee is estimated at the taker rate, in USDT.
    let entry_fee = trade.qty.get() / dec!(0.999) * dec!(0.001) * trade.entry_price;
    assert_eq!(trade.fees, entry_fee + stop.qty.get() * dec!(99) * dec!(0.001));
    assert!(e.books().next().unwrap().1.position.is_none());
}
