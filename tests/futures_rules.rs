//! The futures backtester checked against DESIGN §10 on real data, by an independent
//! re-derivation of every trade from the raw files.
//!
//! The backtest runs over BTC, ETH and SOL perpetuals (klines, mark prices, funding). Then, for
//! every trade, this test recomputes from the data alone, with its own code rather than the
//! engine's or risk-core's: the signal at the close before the entry (rule 1 to 3: momentum,
//! side, leverage rounding), the size (rule 4: risk at the stop, capped by the free margin,
//! floored to the step), the levels and the bar-by-bar exit (rules 5 and 6c: the position must
//! survive every bar before its exit bar and leave in that one, at the price and for the reason
//! the worst-first rule gives), funding (6a, with its sign for longs and shorts), fees (7), the
//! breaker (8: each trip below 80% of the day's opening equity, nothing opened for the rest of
//! that UTC day) and the end of data (9). It also demands that each rule actually occurs in the
//! run, so the check cannot pass vacuously. A second run with a take profit of 50% exercises the
//! trailing stop, which the default 5% take profit always pre-empts.
//!
//! Needs ../shared/data (DESIGN §14): skips loudly without it unless `REQUIRE_SHARED_DATA=1`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use agent_core::backtest::{self, ExitReason, RunOutput, SymbolSeries, TradeRecord, load_dir};
use agent_core::time::utc_day;
use exchange_core::marketdata::shared_data_dir;
use exchange_core::{Bar, PositionSide, Symbol};
use futures_agent::config::FuturesConfig;
use futures_agent::strategy::Momentum;
use risk_core::params::FuturesRiskParams;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const HOUR: i64 = 3_600_000;

fn futures_dir() -> Option<PathBuf> {
    match shared_data_dir() {
        Ok(Some(dir)) => Some(dir.join("futures-1h")),
        Ok(None) => None,
        Err(message) => panic!("{message}"),
    }
}

fn load(dir: &std::path::Path, params: &FuturesRiskParams) -> Vec<SymbolSeries> {
    let cfg = FuturesConfig { strategy: params.clone(), ..FuturesConfig::default() };
    let symbols: Vec<_> = cfg.symbols.iter().map(|s| (s.clone(), cfg.rules_for(s).unwrap())).collect();
    load_dir(dir, &symbols, None, None).unwrap().series
}

/// One symbol's data, indexed by open time.
struct Market<'a> {
    series: &'a SymbolSeries,
    row: HashMap<i64, usize>,
    mark: HashMap<i64, Bar>,
    funding: BTreeMap<i64, Decimal>,
}

impl<'a> Market<'a> {
    fn new(series: &'a SymbolSeries) -> Self {
        Self {
            series,
            row: series.bars.iter().enumerate().map(|(i, b)| (b.open_time_ms, i)).collect(),
            mark: series.mark.iter().map(|b| (b.open_time_ms, *b)).collect(),
            funding: series.funding.iter().map(|f| (f.funding_time_ms, f.rate)).collect(),
        }
    }

    fn bar(&self, i: usize) -> &Bar {
        &self.series.bars[i]
    }

    fn close_at_or_before(&self, time: i64) -> Option<Decimal> {
        let i = self.series.bars.partition_point(|b| b.open_time_ms <= time);
        i.checked_sub(1).map(|i| self.series.bars[i].close.get())
    }
}

/// What the worst-first rule says about one bar, written out per side.
fn expected_exit(
    side: PositionSide,
    bar: &Bar,
    mark: Option<&Bar>,
    stop: Decimal,
    take: Decimal,
    trail: Decimal,
    liq: Option<Decimal>,
) -> Option<(ExitReason, Decimal)> {
    let (open, high, low) = (bar.open.get(), bar.high.get(), bar.low.get());
    let (m_open, m_high, m_low) =
        mark.map_or((open, high, low), |m| (m.open.get(), m.high.get(), m.low.get()));
    match side {
        PositionSide::Long => {
            if let Some(l) = liq.filter(|l| m_open <= *l) {
                let _ = l;
                return Some((ExitReason::Liquidation, m_open));
            }
            if open <= stop || open <= trail {
                let reason = if open <= stop && (open > trail || stop >= trail) {
                    ExitReason::StopLoss
                } else {
                    ExitReason::TrailingStop
                };
                return Some((reason, open));
            }
            if open >= take {
                return Some((ExitReason::TakeProfit, open));
            }
            let mut best: Option<(ExitReason, Decimal)> = None;
            let mut consider = |reason, level: Decimal, crossed: bool| {
                if crossed && best.is_none_or(|(_, b)| level > b) {
                    best = Some((reason, level));
                }
            };
            if let Some(l) = liq {
                consider(ExitReason::Liquidation, l, m_low <= l);
            }
            consider(ExitReason::StopLoss, stop, low <= stop);
            consider(ExitReason::TrailingStop, trail, low <= trail);
            best.or_else(|| (high >= take).then_some((ExitReason::TakeProfit, take)))
        }
        PositionSide::Short => {
            if liq.is_some_and(|l| m_open >= l) {
                return Some((ExitReason::Liquidation, m_open));
            }
            if open >= stop || open >= trail {
                let reason = if open >= stop && (open < trail || stop <= trail) {
                    ExitReason::StopLoss
                } else {
                    ExitReason::TrailingStop
                };
                return Some((reason, open));
            }
            if open <= take {
                return Some((ExitReason::TakeProfit, open));
            }
            let mut best: Option<(ExitReason, Decimal)> = None;
            let mut consider = |reason, level: Decimal, crossed: bool| {
                if crossed && best.is_none_or(|(_, b)| level < b) {
                    best = Some((reason, level));
                }
            };
            if let Some(l) = liq {
                consider(ExitReason::Liquidation, l, m_high >= l);
            }
            consider(ExitReason::StopLoss, stop, high >= stop);
            consider(ExitReason::TrailingStop, trail, high >= trail);
            best.or_else(|| (low <= take).then_some((ExitReason::TakeProfit, take)))
        }
    }
}

/// Which rules a run exercised.
#[derive(Debug, Default)]
struct Seen {
    reasons: BTreeMap<&'static str, usize>,
    margin_capped: usize,
    opened_beyond_stop: usize,
    stop_and_take_same_bar: usize,
    long_paid_funding: usize,
    short_received_funding: usize,
    short_paid_funding: usize,
    long_received_funding: usize,
    leverage_values: BTreeMap<u32, usize>,
    breaker_resets: usize,
}

fn floor_to(value: Decimal, step: Decimal) -> Decimal {
    value - value % step
}

/// Checks every trade and the run's global identities; returns what was exercised.
fn verify(series: &[SymbolSeries], params: &FuturesRiskParams, run: &RunOutput) -> Seen {
    let markets: BTreeMap<Symbol, Market> =
        series.iter().map(|s| (s.symbol.clone(), Market::new(s))).collect();
    let order: Vec<Symbol> = series.iter().map(|s| s.symbol.clone()).collect();
    let equity_at: HashMap<i64, Decimal> = run.equity.iter().copied().collect();
    let one = Decimal::ONE;
    let mut seen = Seen::default();

    for (k, trade) in run.trades.iter().enumerate() {
        let what = format!("trade {k} {} {:?} entered {}", trade.symbol, trade.side, trade.entry_time);
        let m = &markets[&trade.symbol];
        let sign = trade.side.sign();
        let e = m.row[&trade.entry_time];
        let s = e - 1;
        let signal_time = m.bar(s).open_time_ms;

        // Rules 1-3: the signal at the close of bar s, filled at the open of s + 1.
        let close = m.bar(s).close.get();
        let base = m.bar(s - params.window).close.get();
        let momentum = close / base - one;
        assert!(momentum.abs() >= params.threshold, "{what}: |m| {momentum} below the threshold");
        assert_eq!(
            trade.side,
            if momentum > Decimal::ZERO { PositionSide::Long } else { PositionSide::Short },
            "{what}"
        );
        let raw = (Decimal::from(params.min_leverage) * momentum.abs() / params.threshold).floor();
        let leverage = raw.clamp(Decimal::from(params.min_leverage), Decimal::from(params.max_leverage));
        assert_eq!(Decimal::from(trade.leverage), leverage, "{what}: leverage");
        *seen.leverage_values.entry(trade.leverage).or_default() += 1;
        let entry = m.bar(e).open.get();
        assert_eq!(trade.entry_price, entry, "{what}: fills at the next open");

        // Rule 4: size from the equity at that close, capped by the free margin.
        let equity = equity_at[&signal_time];
        let others_open: Vec<&TradeRecord> = run
            .trades
            .iter()
            .filter(|t| t.entry_time <= signal_time && t.exit_time > signal_time && *t != trade)
            .collect();
        let unrealized: Decimal = others_open
            .iter()
            .map(|t| {
                let mark = markets[&t.symbol].close_at_or_before(signal_time).unwrap();
                t.side.sign() * t.qty.get() * (mark - t.entry_price)
            })
            .sum();
        let open_margin: Decimal =
            others_open.iter().map(|t| t.qty.get() * t.entry_price / Decimal::from(t.leverage)).sum();
        let earlier_same_close: Decimal = run
            .trades
            .iter()
            .filter(|t| {
                t.entry_time == trade.entry_time
                    && order.iter().position(|x| *x == t.symbol)
                        < order.iter().position(|x| *x == trade.symbol)
            })
            .map(|t| {
                let their_close = markets[&t.symbol].close_at_or_before(signal_time).unwrap();
                t.qty.get() * their_close / Decimal::from(t.leverage)
            })
            .sum();
        let free = equity - unrealized - open_margin - earlier_same_close;
        let target = equity * params.risk_per_trade / params.stop_loss;
        let capped = target / leverage > free;
        let notional = if capped { free * leverage } else { target };
        let rules = &m.series.rules;
        let mut qty = floor_to(notional / close, rules.step_size.get());
        if qty * close > notional {
            qty -= rules.step_size.get();
        }
        assert_eq!(trade.qty.get(), qty, "{what}: qty (equity {equity}, free {free}, capped {capped})");
        seen.margin_capped += usize::from(capped);

        // Rules 5 and 6c: levels, and the bar-by-bar exit.
        let margin = qty * entry / leverage;
        let stop = entry * (one - sign * params.stop_loss);
        let take = entry * (one + sign * params.take_profit);
        let liq = {
            let lp = (margin - sign * qty * entry) / (qty * params.mmr - sign * qty);
            (lp > Decimal::ZERO).then_some(lp)
        };
        let x = m.row[&trade.exit_time];
        let mut peak = entry;
        let mut exit = None;
        for i in e..=x {
            let bar = m.bar(i);
            if trade.exit_reason == ExitReason::Breaker && i == x {
                break;
            }
            let trail = peak * (one - sign * params.trailing_stop);
            exit = expected_exit(trade.side, bar, m.mark.get(&bar.open_time_ms), stop, take, trail, liq);
            if exit.is_some() {
                assert_eq!(i, x, "{what}: should have exited at {}", bar.open_time_ms);
                break;
            }
            peak = if sign > Decimal::ZERO { peak.max(bar.high.get()) } else { peak.min(bar.low.get()) };
        }
        let gross = match trade.exit_reason {
            ExitReason::Breaker => {
                assert!(run.breaker_trips.contains(&m.bar(x - 1).open_time_ms), "{what}: no trip before");
                assert_eq!(trade.exit_price, m.bar(x).open.get(), "{what}: breaker closes at the open");
                sign * qty * (trade.exit_price - entry)
            }
            ExitReason::EndOfData => {
                assert_eq!(exit, None, "{what}");
                assert_eq!(x, m.series.bars.len() - 1, "{what}: end of data at the last bar");
                assert_eq!(trade.exit_price, m.bar(x).close.get(), "{what}");
                sign * qty * (trade.exit_price - entry)
            }
            reason => {
                let (want_reason, want_price) = exit.unwrap_or_else(|| panic!("{what}: no exit found"));
                assert_eq!((reason, trade.exit_price), (want_reason, want_price), "{what}: exit");
                let bar = m.bar(x);
                let stop_like = matches!(reason, ExitReason::StopLoss | ExitReason::TrailingStop);
                if stop_like && trade.exit_price == bar.open.get() {
                    seen.opened_beyond_stop += 1;
                }
                let (hit_stop, hit_take) = match trade.side {
                    PositionSide::Long => (bar.low.get() <= stop, bar.high.get() >= take),
                    PositionSide::Short => (bar.high.get() >= stop, bar.low.get() <= take),
                };
                if hit_stop && hit_take && bar.open.get() != trade.exit_price {
                    assert_eq!(reason, ExitReason::StopLoss, "{what}: worst first");
                    seen.stop_and_take_same_bar += 1;
                }
                if reason == ExitReason::Liquidation {
                    -margin
                } else {
                    sign * qty * (trade.exit_price - entry)
                }
            }
        };
        *seen.reasons.entry(trade.exit_reason.as_str()).or_default() += 1;

        // Rule 6a: funding at every funding time after the entry open, up to the exit bar.
        let funding: Decimal = m
            .funding
            .range(trade.entry_time..)
            .take_while(|(t, _)| **t <= trade.exit_time)
            .filter(|(t, _)| **t > trade.entry_time && m.row.contains_key(*t))
            .map(|(t, rate)| {
                let mark_open = m.mark.get(t).map_or_else(|| m.bar(m.row[t]).open.get(), |b| b.open.get());
                -sign * qty * mark_open * rate
            })
            .sum();
        assert_eq!(trade.funding, funding, "{what}: funding");
        match (trade.side, funding.cmp(&Decimal::ZERO)) {
            (PositionSide::Long, std::cmp::Ordering::Less) => seen.long_paid_funding += 1,
            (PositionSide::Long, std::cmp::Ordering::Greater) => seen.long_received_funding += 1,
            (PositionSide::Short, std::cmp::Ordering::Greater) => seen.short_received_funding += 1,
            (PositionSide::Short, std::cmp::Ordering::Less) => seen.short_paid_funding += 1,
            _ => {}
        }

        // Rule 7: taker fee on both fills (none on a liquidation); the trade's P&L.
        let exit_fee = if trade.exit_reason == ExitReason::Liquidation {
            Decimal::ZERO
        } else {
            qty * trade.exit_price * params.fee
        };
        assert_eq!(trade.fees, qty * entry * params.fee + exit_fee, "{what}: fees");
        assert_eq!(trade.pnl, gross - trade.fees + funding, "{what}: pnl");
    }

    // The wallet is the capital plus every trade's P&L.
    let total: Decimal = run.trades.iter().map(|t| t.pnl).sum();
    assert_eq!(run.final_equity, params.capital + total, "final equity");

    // Rule 8: each trip at or below 80% of the day's opening equity; no entry for the rest of the day.
    let mut day_open = params.capital;
    let mut last_equity = params.capital;
    let mut current_day = None;
    let trips: Vec<i64> = run.breaker_trips.clone();
    for &(time, equity) in &run.equity[..run.equity.len() - 1] {
        let day = utc_day(time);
        if current_day.is_some_and(|d| d != day) {
            day_open = last_equity;
        }
        current_day = Some(day);
        let at_or_below = equity <= (one - params.max_daily_loss) * day_open;
        if trips.contains(&time) {
            assert!(at_or_below, "trip at {time}: equity {equity} vs day open {day_open}");
            let next_day = (day + 1) * 86_400_000;
            let blocked =
                run.trades.iter().filter(|t| t.entry_time > time + HOUR && t.entry_time <= next_day).count();
            assert_eq!(blocked, 0, "entries after the trip at {time} on the same day");
            if run.trades.iter().any(|t| utc_day(t.entry_time - HOUR) == day + 1) {
                seen.breaker_resets += 1;
            }
        }
        last_equity = equity;
    }
    seen
}

fn merge(into: &mut Seen, from: Seen) {
    for (reason, n) in from.reasons {
        *into.reasons.entry(reason).or_default() += n;
    }
    for (lev, n) in from.leverage_values {
        *into.leverage_values.entry(lev).or_default() += n;
    }
    into.margin_capped += from.margin_capped;
    into.opened_beyond_stop += from.opened_beyond_stop;
    into.stop_and_take_same_bar += from.stop_and_take_same_bar;
    into.long_paid_funding += from.long_paid_funding;
    into.long_received_funding += from.long_received_funding;
    into.short_paid_funding += from.short_paid_funding;
    into.short_received_funding += from.short_received_funding;
    into.breaker_resets += from.breaker_resets;
}

/// Every trade of four runs verified; together they must exercise every rule. The runs: the
/// defaults; a 50% take profit (so trailing stops fire, some at an open beyond them after a
/// bar that spiked and fell back); 20% risk per trade (so the free margin caps sizes); and the
/// defaults cut while positions are open (so the end of data closes them).
#[test]
fn every_trade_follows_the_rules_on_real_data() {
    let Some(dir) = futures_dir() else { return };
    let defaults = FuturesRiskParams::default();
    let mut seen = Seen::default();
    let mut cut_at = None;
    for params in [
        defaults.clone(),
        FuturesRiskParams { take_profit: dec!(0.5), ..defaults.clone() },
        FuturesRiskParams { risk_per_trade: dec!(0.2), ..defaults.clone() },
    ] {
        let series = load(&dir, &params);
        let run = backtest::run(&series, &params, &Momentum::new(&params));
        if cut_at.is_none() {
            // An hour after the 100th entry of the default run, when that position is open.
            cut_at = Some(run.trades[100].entry_time + HOUR);
        }
        merge(&mut seen, verify(&series, &params, &run));
    }
    let cut_at = cut_at.unwrap();
    let mut series = load(&dir, &defaults);
    for s in &mut series {
        s.bars.retain(|b| b.open_time_ms < cut_at);
    }
    let run = backtest::run(&series, &defaults, &Momentum::new(&defaults));
    merge(&mut seen, verify(&series, &defaults, &run));

    eprintln!("{seen:#?}");
    for reason in ["stop_loss", "take_profit", "trailing_stop", "liquidation", "breaker", "end_of_data"] {
        assert!(seen.reasons.get(reason).is_some_and(|n| *n > 0), "no {reason} exit in the runs: {seen:?}");
    }
    assert!(seen.margin_capped > 0, "no entry capped by free margin");
    assert!(seen.opened_beyond_stop > 0, "no bar opened beyond a stop");
    assert!(seen.stop_and_take_same_bar > 0, "no bar crossed both stop and take profit");
    assert!(seen.long_paid_funding > 0 && seen.short_received_funding > 0, "funding signs not exercised");
    assert!(seen.long_received_funding > 0 && seen.short_paid_funding > 0, "negative funding not exercised");
    assert!(
        seen.leverage_values.len() == 21,
        "leverage rounding not exercised over 5..=25: {:?}",
        seen.leverage_values
    );
    assert!(seen.breaker_resets > 0, "no entry on the day after a breaker trip");
}

/// The first trade of the default run, checked by hand against BTCUSDT.csv.
#[test]
fn first_trade_by_hand() {
    let Some(dir) = futures_dir() else { return };
    let params = FuturesRiskParams::default();
    let series = load(&dir, &params);
    let run = backtest::run(&series, &params, &Momentum::new(&params));
    let t = &run.trades[0];
    // BTCUSDT.csv: the 2019-09-09 05:00 bar closes at 10304.32; 12 rows earlier (2019-09-08
    // 17:00, the first row) the close was 10000.0, so m = 0.030432 >= 0.02: long, leverage
    // floor(5 * 0.030432 / 0.02) = floor(7.608) = 7. Size: 10,000 * 0.05 / 0.03 = 16,666.67 USDT
    // (margin 2,381 fits), / 10304.32 = 1.61744... BTC, floored to the 0.001 step: 1.617. It fills
    // at the 06:00 open, 10304.32. Stop loss 10304.32 * 0.97 = 9995.1904; the first bar whose low
    // reaches it is 2019-09-10 19:00 (open 10194.82, low 9940.87), where it fills at the level.
    assert_eq!(t.symbol.as_str(), "BTCUSDT");
    assert_eq!(t.side, PositionSide::Long);
    assert_eq!(t.entry_time, 1_568_008_800_000);
    assert_eq!(t.entry_price, dec!(10304.32));
    assert_eq!(t.leverage, 7);
    assert_eq!(t.qty.get(), dec!(1.617));
    assert_eq!(t.exit_reason, ExitReason::StopLoss);
    assert_eq!(t.exit_price, dec!(9995.1904));
    assert_eq!(t.exit_time, 1_568_142_000_000);
}
