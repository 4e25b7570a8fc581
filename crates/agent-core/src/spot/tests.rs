//! Scenario tests of the spot engine on synthetic bars: fills at the next open, orders never
//! carried across a hole, the trailing stop (at its level and on a gap below it), the daily loss
//! cap, and the accounting invariants on a random multi-pair market with holes.

use exchange_core::{Bar, InstrumentRules, Notional, Price, Qty, Symbol};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use rust_decimal_macros::dec;

use super::*;
use crate::regime::RegimeParams;

const HOUR: i64 = 3_600_000;
/// 2024-01-01 00:00 UTC.
const T0: i64 = 1_704_067_200_000;

/// Bars from closes (`None`: a hole): open = previous close, high / low 0.1 % around the
/// larger / smaller of open and close.
fn series(symbol: &str, closes: &[Option<f64>]) -> SpotSeries {
    let symbol = Symbol::new(symbol).unwrap();
    let mut prev: Option<f64> = None;
    let mut bars = Vec::new();
    for (i, c) in closes.iter().enumerate() {
        let Some(c) = *c else { continue };
        let o = prev.unwrap_or(c);
        let d = |x: f64| Price::new(Decimal::from_f64(x).unwrap().round_dp(4));
        bars.push(Bar {
            open_time_ms: T0 + i as i64 * HOUR,
            open: d(o),
            high: d(o.max(c) * 1.001),
            low: d(o.min(c) * 0.999),
            close: d(c),
            volume: dec!(1),
        });
        prev = Some(c);
    }
    let rules = InstrumentRules::new(
        symbol.clone(),
        Price::new(dec!(0.0001)),
        Qty::new(dec!(0.001)),
        Qty::new(dec!(0.001)),
        None,
        Notional::new(dec!(5)),
    )
    .unwrap();
    SpotSeries { symbol, rules, bars }
}

/// Short warm-ups, every feature off but the ones a test turns on, one position of up to all
/// the equity, no cooldown.
fn params() -> SpotParams {
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

fn rising(n: usize) -> Vec<Option<f64>> {
    (0..n).map(|i| Some(100.0 * 1.01f64.powi(i as i32))).collect()
}

fn first_signal_bar(p: &SpotParams, closes: &[Option<f64>]) -> usize {
    let out = run_spot(&[series("AUSDT", closes)], HOUR, p);
    let first = out.signals.first().expect("a signal");
    ((first.time - T0) / HOUR) as usize
}

#[test]
fn an_order_fills_at_the_next_open_and_never_across_a_hole() {
    let p = params();
    let closes = rising(40);
    let k = first_signal_bar(&p, &closes);
    let out = run_spot(&[series("AUSDT", &closes)], HOUR, &p);
    let trade = &out.trades[0];
    assert_eq!(trade.decision_time, T0 + k as i64 * HOUR);
    assert_eq!(trade.entry_time, trade.decision_time + HOUR);
    let open = out.trades[0].entry_price / (Decimal::ONE + dec!(0.0002));
    assert_eq!(
        open,
        Decimal::from_f64(closes[k].unwrap()).unwrap().round_dp(4),
        "filled at the next open plus slippage"
    );

    let mut holed = closes.clone();
    holed[k + 1] = None;
    let out = run_spot(&[series("AUSDT", &holed)], HOUR, &p);
    assert_eq!(out.caps.cancelled_by_gap, 1);
    assert!(out.trades[0].decision_time > T0 + k as i64 * HOUR, "the first order was dropped");
}

#[test]
fn the_trailing_stop_fills_at_its_level_or_the_gapped_open() {
    let p = params();
    // Up 30 bars, then a bar that opens 20 % lower (a gap through the stop).
    let mut closes = rising(30);
    let top = closes[29].unwrap();
    closes.extend([Some(top * 0.8), Some(top * 0.8)]);
    let mut s = series("AUSDT", &closes);
    s.bars[30].open = Price::new(Decimal::from_f64(top * 0.79).unwrap().round_dp(4));
    s.bars[30].low = s.bars[30].open;
    let out = run_spot(&[s.clone()], HOUR, &p);
    let stop = out.trades.iter().find(|t| t.exit_reason == SpotExitReason::TrailingStop).unwrap();
    assert_eq!(stop.exit_time, T0 + 30 * HOUR);
    assert_eq!(
        stop.exit_price,
        s.bars[30].open.get() * (Decimal::ONE - dec!(0.0002)),
        "the open, less slippage"
    );

    // Without the gap, the bar falls through the stop from above: filled at the stop itself.
    let mut soft = s.clone();
    soft.bars[30].open = soft.bars[29].close;
    let out = run_spot(&[soft.clone()], HOUR, &p);
    let stop = out.trades.iter().find(|t| t.exit_reason == SpotExitReason::TrailingStop).unwrap();
    let level = stop.exit_price / (Decimal::ONE - dec!(0.0002));
    assert!(level < soft.bars[30].open.get() && level > soft.bars[30].low.get(), "{level}");
    assert_eq!(level % dec!(0.0001), Decimal::ZERO, "on the tick grid");
}

#[test]
fn the_daily_loss_cap_sells_at_the_next_open_and_waits_for_the_next_day() {
    let mut p = params();
    p.risk.atr_multiple = 1000.0;
    p.risk.max_position_fraction = Decimal::ONE;
    p.costs.slippage_bps = Decimal::ZERO;
    // Up for 30 bars, then a 20 % fall at the close of bar 30, then flat rising again.
    let mut closes = rising(30);
    let top = closes[29].unwrap();
    closes.push(Some(top * 0.8));
    closes.extend((0..40).map(|i| Some(top * 0.8 * 1.01f64.powi(i))));
    let out = run_spot(&[series("AUSDT", &closes)], HOUR, &p);
    assert_eq!(out.breaker_trips, vec![T0 + 30 * HOUR]);
    let capped = out.trades.iter().find(|t| t.exit_reason == SpotExitReason::DailyLossCap).unwrap();
    assert_eq!(capped.exit_time, T0 + 31 * HOUR, "sold at the next open");
    let next_day = T0 + 24 * HOUR * ((30 * HOUR) / (24 * HOUR) + 1);
    assert!(out.trades.iter().all(|t| t.decision_time <= T0 + 30 * HOUR || t.decision_time >= next_day));
    assert!(out.trades.iter().any(|t| t.decision_time >= next_day), "buys again the next day");
}

/// A random walk per pair with volatility bursts and holes, deterministic.
fn random_market(pairs: usize, bars: usize) -> Vec<SpotSeries> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..pairs)
        .map(|k| {
            let mut c = 50.0 + 10.0 * k as f64;
            let closes: Vec<Option<f64>> = (0..bars)
                .map(|i| {
                    let vol = if (i / 300) % 3 == 2 { 0.02 } else { 0.006 };
                    let drift = if (i / 500) % 2 == 0 { 0.0006 } else { -0.0004 };
                    c *= 1.0 + drift + vol * (next() - 0.5) * 3.4;
                    let hole = k == 1 && (900..960).contains(&i) || k == 2 && i % 97 == 0;
                    (!hole).then_some(c)
                })
                .collect();
            series(&format!("P{k}USDT"), &closes)
        })
        .collect()
}

#[test]
fn accounting_holds_on_a_random_market_with_every_feature() {
    let market = random_market(5, 2500);
    let mut p = SpotParams::default();
    (p.gate.min_train_samples, p.gate.retrain_every) = (200, 48);
    let out = run_spot(&market, HOUR, &p);
    assert!(out.trades.len() > 5, "{} trades", out.trades.len());
    assert!(out.fits > 5, "{} fits", out.fits);
    let pnl: Decimal = out.trades.iter().map(|t| t.pnl).sum();
    assert_eq!(out.final_equity, p.capital + pnl, "cash is conserved exactly");
    for t in &out.trades {
        assert_eq!(t.entry_time, t.decision_time + HOUR);
        assert!(t.exit_time >= t.entry_time);
        assert!(t.fees > Decimal::ZERO);
    }
    for symbol in &out.symbols {
        let mut spans: Vec<(i64, i64)> =
            out.trades.iter().filter(|t| &t.symbol == symbol).map(|t| (t.entry_time, t.exit_time)).collect();
        spans.sort_unstable();
        assert!(spans.windows(2).all(|w| w[0].1 <= w[1].0), "{symbol}: overlapping positions");
    }
    let steps: u64 = market.iter().map(|s| s.bars.len() as u64).sum();
    assert_eq!(out.bar_steps, steps);
    assert_eq!(out.regimes.iter().map(RegimeCounts::total).sum::<u64>(), steps);
}

#[test]
fn a_run_is_deterministic() {
    let market = random_market(4, 1500);
    let mut p = SpotParams::default();
    (p.gate.min_train_samples, p.gate.retrain_every) = (200, 48);
    let a = run_spot(&market, HOUR, &p);
    let b = run_spot(&market, HOUR, &p);
    assert_eq!(a.trades, b.trades);
    assert_eq!(a.equity, b.equity);
    assert_eq!(a.model, b.model);
}
