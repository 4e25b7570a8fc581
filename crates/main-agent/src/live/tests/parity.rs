//! Parity with the backtester: the same bars through the live engine (over a venue that fills
//! as the backtester does: market orders at the next open with slippage, stops inside the bar,
//! fees in USDT) and through `run_spot` give the same trades, field for field: entries, their
//! times, prices and quantities, exits and their reasons, fees and P&L, the gate's
//! probabilities; and the holdings left at the end are the backtest's end-of-data trades.
//!
//! Where the two can differ, by design (not exercised here): the backtest shrinks a purchase
//! whose next open gapped beyond the free cash, and cancels an order whose pair has no bar at
//! the next interval; a live market order fills whatever the open. Live, a buy's fee is taken in
//! the base asset, so the holding (and the sale) is the bought quantity less the fee, with dust.

use std::collections::HashSet;

use agent_core::spot::{SpotExitReason, SpotParams, SpotSeries, run_spot};
use exchange_core::{Bar, Symbol};
use rust_decimal::Decimal;

use super::sim::{HOUR, SimVenue, T0, bars, engine_with, rules, sym};

/// A random walk per pair with volatility bursts and trend phases, deterministic; `BTCUSDT`
/// (the market) first, one pair listed late.
pub fn market(bars_n: usize, crash_at: Option<usize>) -> Vec<SpotSeries> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    ["BTCUSDT", "P1USDT", "P2USDT", "P3USDT", "P4USDT"]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let mut c = 50.0 + 10.0 * k as f64;
            let closes: Vec<f64> = (0..bars_n)
                .map(|i| {
                    let vol = if (i / 300) % 3 == 2 { 0.02 } else { 0.006 };
                    let drift = if (i / 500) % 2 == 0 { 0.0006 } else { -0.0004 };
                    c *= 1.0 + drift + vol * (next() - 0.5) * 3.4;
                    if crash_at == Some(i) {
                        c *= 0.85;
                    }
                    c
                })
                .collect();
            let start = if k == 4 { 400 } else { 0 };
            let symbol = sym(name);
            SpotSeries { rules: rules(&symbol), symbol, bars: bars(start as i64, &closes[start..]) }
        })
        .collect()
}

/// Runs `series` through the backtester and the live engine over the simulated venue and
/// checks they agree; returns the backtest's exit reasons and the number of holdings left.
fn check_parity(series: &[SpotSeries], params: &SpotParams) -> (HashSet<SpotExitReason>, usize) {
    let backtest = run_spot(series, HOUR, params);
    let names: Vec<String> = series.iter().map(|s| s.symbol.to_string()).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut engine = engine_with(params.clone(), &names, None);
    let mut venue = SimVenue::new(params);
    let session = engine.begin_session(1, T0);
    venue.execute(&mut engine, vec![session], T0);
    let last = series.iter().filter_map(|s| s.bars.last()).map(|b| b.open_time_ms).max().unwrap();
    let mut t = T0;
    while t <= last {
        let now: Vec<(Symbol, Bar)> = series
            .iter()
            .filter_map(|s| s.bars.iter().find(|b| b.open_time_ms == t).map(|b| (s.symbol.clone(), *b)))
            .collect();
        venue.step(&mut engine, &now);
        t += HOUR;
    }

    assert_eq!(engine.gate().fits(), backtest.fits, "the same refits");
    assert_eq!(engine.gate().model(), backtest.model.as_ref(), "the same model, bit for bit");
    let closed: Vec<_> =
        backtest.trades.iter().filter(|t| t.exit_reason != SpotExitReason::EndOfData).collect();
    assert!(closed.len() >= 10, "{} trades", closed.len());
    assert_eq!(engine.trades().len(), closed.len());
    for (live, back) in engine.trades().iter().zip(&closed) {
        assert_eq!(live, *back);
    }
    // What the backtest sold at the end of the data is what the live engine still holds.
    let open: Vec<_> =
        backtest.trades.iter().filter(|t| t.exit_reason == SpotExitReason::EndOfData).collect();
    let held: Vec<_> =
        engine.books().filter_map(|(s, b, _)| Some((s.clone(), b.position.clone()?))).collect();
    assert_eq!(held.len(), open.len());
    for ((symbol, pos), back) in held.iter().zip(&open) {
        assert_eq!(
            (symbol, pos.entry_time, pos.entry_price(), pos.qty),
            (&back.symbol, back.entry_time, back.entry_price, back.qty.get())
        );
    }
    assert_eq!(
        engine.breaker().tripped_day(),
        backtest.breaker_trips.last().map(|t| (t + HOUR).div_euclid(86_400_000))
    );
    let pnl: Decimal = engine.trades().iter().map(|t| t.pnl).sum();
    let costs: Decimal = held.iter().map(|(_, p)| p.cash_out).sum();
    assert_eq!(engine.cash(), params.capital + pnl - costs, "cash is conserved exactly");
    assert!(venue.alerts.iter().all(|a| !a.contains("at market")), "never unprotected: {:?}", venue.alerts);
    (closed.iter().map(|t| t.exit_reason).collect(), held.len())
}

fn gate_params() -> SpotParams {
    let mut params = SpotParams::default();
    (params.gate.min_train_samples, params.gate.retrain_every) = (200, 48);
    params
}

#[test]
fn live_engine_trades_as_the_backtester_does() {
    let (reasons, held) = check_parity(&market(2460, None), &gate_params());
    assert!(reasons.contains(&SpotExitReason::TrailingStop), "{reasons:?}");
    assert!(reasons.contains(&SpotExitReason::RegimeFlip), "{reasons:?}");
    assert!(held > 0, "ends holding something");
}

#[test]
fn live_engine_caps_the_daily_loss_as_the_backtester_does() {
    let mut params = gate_params();
    params.risk.max_daily_loss = rust_decimal_macros::dec!(0.01);
    // Stops far enough under the price for the crash to leave holdings to the loss cap.
    params.risk.atr_multiple = 30.0;
    // The crash hits a bar where the backtest holds two pairs or more.
    let calm = run_spot(&market(1900, None), HOUR, &params);
    let crash_at = (1000..1900)
        .find(|&i| {
            let t = T0 + i as i64 * HOUR;
            calm.trades.iter().filter(|x| x.entry_time < t && t < x.exit_time).count() >= 2
        })
        .expect("a bar with two holdings");
    let (reasons, _) = check_parity(&market(1900, Some(crash_at)), &params);
    assert!(reasons.contains(&SpotExitReason::DailyLossCap), "{reasons:?}");
}
