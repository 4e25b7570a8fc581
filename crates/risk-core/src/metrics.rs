//! Performance statistics for reports, the monitor and exports, one definition everywhere
//! (DESIGN §12): daily returns, Sharpe, Sortino, max drawdown, CAGR, and per-trade statistics.
//!
//! Statistics are `f64` (money stays `Decimal` in [`TradeStats`]). Formulas follow empyrical:
//! Sharpe = mean / std (ddof 1) x sqrt(ppy); Sortino = mean / sqrt(mean(min(r, 0)^2)) x sqrt(ppy);
//! max drawdown = the largest peak-to-trough fall as a negative fraction; CAGR =
//! (end / start)^(1 / years) - 1. Nothing here panics or returns NaN or an infinity: a statistic
//! that is undefined for its input (too few points, zero deviation, no losses, a non-positive
//! base, non-finite input) is `None`, and a drawdown of nothing is 0.

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

use crate::day::{MS_PER_DAY, utc_day};

/// Periods per year for daily returns: every calendar day trades.
pub const DAYS_PER_YEAR: f64 = 365.0;

fn finite(x: f64) -> Option<f64> {
    Some(x).filter(|x| x.is_finite())
}

/// True for a finite number above zero.
fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

fn mean(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() { None } else { finite(xs.iter().sum::<f64>() / xs.len() as f64) }
}

/// Sample standard deviation (ddof 1); `None` under two values.
fn std_ddof1(xs: &[f64]) -> Option<f64> {
    let m = mean(xs)?;
    if xs.len() < 2 {
        return None;
    }
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    finite((ss / (xs.len() - 1) as f64).sqrt())
}

fn valid_ppy(periods_per_year: f64) -> Option<f64> {
    Some(periods_per_year).filter(|p| positive(*p))
}

/// The last equity of each UTC day, as `(day, equity)` in time order. A point counts for the UTC
/// day of its own time (`time_ms.div_euclid(86_400_000)`), so stamp each bar's equity with the
/// bar's **open** time (as the kline files do) or Binance's kline close time `open + interval -
/// 1 ms`; a stamp of exactly `open + interval` would move the 23:00 bar's equity into the next
/// day. Points with a non-finite equity are dropped; the input need not be sorted (it is ordered
/// by time, stably).
pub fn daily_last_values(equity: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut points: Vec<(i64, f64)> = equity.iter().copied().filter(|(_, v)| v.is_finite()).collect();
    points.sort_by_key(|(time, _)| *time);
    let mut days: Vec<(i64, f64)> = Vec::new();
    for (time, value) in points {
        let day = utc_day(time);
        match days.last_mut() {
            Some(last) if last.0 == day => last.1 = value,
            _ => days.push((day, value)),
        }
    }
    days
}

/// Simple returns `v[i] / v[i-1] - 1` of consecutive values. A pair whose base is not positive,
/// or with a non-finite value, has no defined return and is skipped.
pub fn simple_returns(values: &[f64]) -> Vec<f64> {
    values
        .windows(2)
        .filter_map(|pair| match *pair {
            [base, next] if positive(base) && next.is_finite() => finite(next / base - 1.0),
            _ => None,
        })
        .collect()
}

/// Simple returns between the last equity of consecutive UTC days present in the series
/// (`daily_last_values`, then `simple_returns`): n days give n - 1 returns.
pub fn daily_returns(equity: &[(i64, f64)]) -> Vec<f64> {
    let values: Vec<f64> = daily_last_values(equity).into_iter().map(|(_, v)| v).collect();
    simple_returns(&values)
}

/// Sharpe ratio `mean / std(ddof 1) x sqrt(periods_per_year)`, risk-free rate 0. `None` with
/// fewer than two returns, zero deviation, `periods_per_year <= 0`, or non-finite input.
pub fn sharpe(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    let ppy = valid_ppy(periods_per_year)?;
    let sd = std_ddof1(returns).filter(|sd| *sd > 0.0)?;
    finite(mean(returns)? / sd * ppy.sqrt())
}

/// Sortino ratio `mean / sqrt(mean(min(r, 0)^2)) x sqrt(periods_per_year)`, target 0. `None`
/// with no returns, no negative return (zero downside: unbounded), `periods_per_year <= 0`, or
/// non-finite input.
pub fn sortino(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    let ppy = valid_ppy(periods_per_year)?;
    let downside: Vec<f64> = returns.iter().map(|r| r.min(0.0) * r.min(0.0)).collect();
    let downside = mean(&downside)?.sqrt();
    if downside <= 0.0 {
        return None;
    }
    finite(mean(returns)? / downside * ppy.sqrt())
}

/// Annualized volatility `std(ddof 1) x sqrt(periods_per_year)`; `None` as for [`sharpe`]
/// except that zero deviation gives 0.
pub fn annual_volatility(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    let ppy = valid_ppy(periods_per_year)?;
    finite(std_ddof1(returns)? * ppy.sqrt())
}

/// The largest peak-to-trough fall of an equity (or price) series, as a negative fraction
/// (`-0.25` is a 25 % drawdown); 0 for an empty or never-falling series. Non-finite values are
/// skipped, and a fall is only measured from a positive peak.
pub fn max_drawdown(values: &[f64]) -> f64 {
    let mut peak = f64::NEG_INFINITY;
    let mut worst = 0.0_f64;
    for &value in values.iter().filter(|v| v.is_finite()) {
        if value > peak {
            peak = value;
        } else if peak > 0.0 {
            worst = worst.min((value - peak) / peak);
        }
    }
    worst
}

/// Total return `end / start - 1`; `None` when `start` is not positive or a value is not finite.
pub fn total_return(start: f64, end: f64) -> Option<f64> {
    if !positive(start) {
        return None;
    }
    finite(end / start - 1.0)
}

/// Compound annual growth rate `(end / start)^(1 / years) - 1` over `years` of calendar time.
/// `None` when `start` or `years` is not positive, `end` is negative, or a value is not finite.
pub fn cagr(start: f64, end: f64, years: f64) -> Option<f64> {
    if !(positive(start) && positive(years) && end >= 0.0) {
        return None;
    }
    finite((end / start).powf(1.0 / years) - 1.0)
}

/// CAGR from a series of periodic returns, as empyrical computes it: growth `prod(1 + r)` over
/// `n / periods_per_year` years, `growth^(1 / years) - 1`. `None` with no returns,
/// `periods_per_year <= 0`, a negative growth, or non-finite input.
pub fn cagr_from_returns(returns: &[f64], periods_per_year: f64) -> Option<f64> {
    let ppy = valid_ppy(periods_per_year)?;
    if returns.is_empty() {
        return None;
    }
    let growth: f64 = returns.iter().map(|r| 1.0 + r).product();
    cagr(1.0, growth, returns.len() as f64 / ppy)
}

/// Statistics over closed trades' net P&L.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TradeStats {
    /// Number of trades.
    pub trades: usize,
    /// Trades with P&L above zero.
    pub wins: usize,
    /// Trades with P&L below zero (a trade at exactly zero is neither).
    pub losses: usize,
    /// `wins / trades`; `None` with no trades.
    pub win_rate: Option<f64>,
    /// `gross_profit / gross_loss`; `None` when there is no loss (no trades, or only wins and
    /// break-evens: the ratio is unbounded).
    pub profit_factor: Option<f64>,
    /// Mean P&L per trade; `None` with no trades.
    pub expectancy: Option<Decimal>,
    /// Sum of winning P&Ls.
    pub gross_profit: Decimal,
    /// Sum of losing P&Ls as a positive amount.
    pub gross_loss: Decimal,
}

impl TradeStats {
    /// Statistics of `pnls`, one net P&L per closed trade (sums saturate at the limits of
    /// `Decimal` rather than panic).
    pub fn from_pnls(pnls: &[Decimal]) -> Self {
        let mut stats = Self {
            trades: pnls.len(),
            wins: 0,
            losses: 0,
            win_rate: None,
            profit_factor: None,
            expectancy: None,
            gross_profit: Decimal::ZERO,
            gross_loss: Decimal::ZERO,
        };
        for &pnl in pnls {
            if pnl > Decimal::ZERO {
                stats.wins += 1;
                stats.gross_profit = stats.gross_profit.saturating_add(pnl);
            } else if pnl < Decimal::ZERO {
                stats.losses += 1;
                stats.gross_loss = stats.gross_loss.saturating_sub(pnl);
            }
        }
        if stats.trades > 0 {
            stats.win_rate = finite(stats.wins as f64 / stats.trades as f64);
            let net = stats.gross_profit.saturating_sub(stats.gross_loss);
            stats.expectancy = net.checked_div(Decimal::from(stats.trades));
        }
        if stats.gross_loss > Decimal::ZERO {
            let ratio = stats.gross_profit.checked_div(stats.gross_loss);
            stats.profit_factor = ratio.and_then(|r| r.to_f64()).and_then(finite);
        }
        stats
    }
}

/// The metrics block of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// Number of daily returns behind the ratios.
    pub daily_returns: usize,
    /// Annualized Sharpe ratio of daily returns (365 periods a year).
    pub sharpe: Option<f64>,
    /// Annualized Sortino ratio of daily returns.
    pub sortino: Option<f64>,
    /// Annualized volatility of daily returns.
    pub annual_volatility: Option<f64>,
    /// Max drawdown of the bar-by-bar equity curve (from the starting equity), negative fraction.
    pub max_drawdown: f64,
    /// The curve's last equity over the starting equity, minus 1 (0 for an empty curve).
    pub total_return: Option<f64>,
    /// CAGR over the calendar span of the equity curve.
    pub cagr: Option<f64>,
    /// Closed-trade statistics.
    pub trades: TradeStats,
}

impl Metrics {
    /// Metrics of an equity curve of `(time ms, equity)` points, one per bar stamped as
    /// [`daily_last_values`] expects (bar open time), and the closed trades' net P&Ls, for an
    /// account that started with `starting_equity`.
    ///
    /// Daily returns run from `starting_equity` through the last equity of each UTC day
    /// ([`daily_last_values`]), so the first day's result counts; Sharpe and Sortino use 365
    /// periods a year. The drawdown runs over `starting_equity` then every point. CAGR uses
    /// `years = (last time - first time) / (365 x 86,400,000 ms)` and is `None` for a curve
    /// spanning no time.
    pub fn from_equity_and_trades(
        equity: &[(i64, f64)],
        trade_pnls: &[Decimal],
        starting_equity: f64,
    ) -> Self {
        let mut points: Vec<(i64, f64)> = equity.iter().copied().filter(|(_, v)| v.is_finite()).collect();
        points.sort_by_key(|(time, _)| *time);
        let mut daily = vec![starting_equity];
        daily.extend(daily_last_values(&points).into_iter().map(|(_, v)| v));
        let returns = simple_returns(&daily);
        let mut curve = vec![starting_equity];
        curve.extend(points.iter().map(|(_, v)| *v));
        let end_equity = points.last().map_or(starting_equity, |(_, v)| *v);
        let span_ms = match (points.first(), points.last()) {
            (Some(first), Some(last)) => last.0.saturating_sub(first.0),
            _ => 0,
        };
        let years = span_ms as f64 / (DAYS_PER_YEAR * MS_PER_DAY as f64);
        Self {
            daily_returns: returns.len(),
            sharpe: sharpe(&returns, DAYS_PER_YEAR),
            sortino: sortino(&returns, DAYS_PER_YEAR),
            annual_volatility: annual_volatility(&returns, DAYS_PER_YEAR),
            max_drawdown: max_drawdown(&curve),
            total_return: total_return(starting_equity, end_equity),
            cagr: cagr(starting_equity, end_equity, years),
            trades: TradeStats::from_pnls(trade_pnls),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const HOUR: i64 = 3_600_000;
    /// 2024-01-01 00:00 UTC.
    const D0: i64 = 1_704_067_200_000;

    fn close_enough(got: Option<f64>, want: f64) -> bool {
        got.is_some_and(|g| (g - want).abs() <= 1e-12 * want.abs().max(1.0))
    }

    #[test]
    fn hand_computed_series() {
        // Equity 100 -> 110 -> 99 -> 120: returns 0.1, -0.1, 7/33 = 0.212121...
        //   mean = (0.1 - 0.1 + 7/33) / 3 = 7/99 = 0.0707070...
        //   deviations 2.9/99, -16.9/99, 14/99: sum of squares 490.02 / 9801 = 0.0499969...
        //   std (ddof 1) = sqrt(0.0499969 / 2) = 0.1581090...; Sharpe (1 period a year) = 0.4472045
        //   downside: sqrt((0 + 0.01 + 0) / 3) = 0.1 / sqrt(3); Sortino = 70 sqrt(3) / 99 = 1.2246824
        //   drawdown: peak 110, trough 99 -> -0.1; CAGR over 3 periods of a year: 1.2^(1/3) - 1
        let values = [100.0, 110.0, 99.0, 120.0];
        let returns = simple_returns(&values);
        assert_eq!(returns.len(), 3);
        assert!(close_enough(returns.get(2).copied(), 7.0 / 33.0));
        assert!(close_enough(sharpe(&returns, 1.0), 0.447_204_468_971_269_4));
        assert!(close_enough(sharpe(&returns, 365.0), 0.447_204_468_971_269_4 * 365_f64.sqrt()));
        assert!(close_enough(sortino(&returns, 1.0), 70.0 * 3_f64.sqrt() / 99.0));
        assert!(close_enough(Some(max_drawdown(&values)), -0.1));
        assert!(close_enough(cagr_from_returns(&returns, 1.0), 1.2_f64.powf(1.0 / 3.0) - 1.0));
        assert!(close_enough(cagr(100.0, 120.0, 3.0), 1.2_f64.powf(1.0 / 3.0) - 1.0));
        assert!(close_enough(total_return(100.0, 120.0), 0.2));
        assert!(close_enough(annual_volatility(&returns, 4.0), 2.0 * 0.158_109_043_207_288_08));
    }

    #[test]
    fn degenerate_inputs_give_none_not_nan() {
        let none = [
            sharpe(&[], 365.0),
            sharpe(&[0.01], 365.0),
            sharpe(&[0.01, 0.01, 0.01], 365.0), // zero deviation
            sharpe(&[0.01, f64::NAN], 365.0),
            sharpe(&[0.01, 0.02], 0.0),
            sortino(&[], 365.0),
            sortino(&[0.01, 0.02], 365.0), // no downside
            sortino(&[0.01, -0.02], f64::NAN),
            annual_volatility(&[0.1], 365.0),
            cagr(0.0, 10.0, 1.0),
            cagr(10.0, -1.0, 1.0),
            cagr(10.0, 12.0, 0.0),
            cagr(f64::INFINITY, 12.0, 1.0),
            cagr_from_returns(&[], 365.0),
            cagr_from_returns(&[-2.0], 365.0),
            total_return(0.0, 5.0),
            total_return(f64::NAN, 5.0),
        ];
        for (i, got) in none.iter().enumerate() {
            assert_eq!(*got, None, "case {i}");
        }
        assert_eq!(max_drawdown(&[]), 0.0);
        assert_eq!(max_drawdown(&[1.0, 2.0, 3.0]), 0.0);
        assert_eq!(max_drawdown(&[0.0, -1.0, f64::NAN]), 0.0);
        assert_eq!(cagr(100.0, 0.0, 2.0), Some(-1.0));
        assert_eq!(simple_returns(&[0.0, 1.0, f64::NAN, 2.0, 3.0]), vec![0.5]);
    }

    #[test]
    fn daily_returns_use_each_days_last_bar() {
        // Bar open times: the bar opening at 23:00 is its day's last; the one at 00:00 the next
        // day's first.
        let equity = [
            (D0, 100.0),
            (D0 + 23 * HOUR, 110.0), // Jan 1 last
            (D0 + 24 * HOUR, 90.0),
            (D0 + 30 * HOUR, f64::NAN),
            (D0 + 47 * HOUR, 99.0),  // Jan 2 last
            (D0 + 95 * HOUR, 120.0), // Jan 4 last (Jan 3 has no data)
        ];
        let days = daily_last_values(&equity);
        assert_eq!(days, vec![(19_723, 110.0), (19_724, 99.0), (19_726, 120.0)]);
        let returns = daily_returns(&equity);
        assert_eq!(returns.len(), 2);
        assert!(close_enough(returns.first().copied(), -0.1));
        let mut shuffled = equity;
        shuffled.reverse();
        assert_eq!(daily_last_values(&shuffled), days);
    }

    #[test]
    fn trade_stats_table() {
        let stats = TradeStats::from_pnls(&[dec!(100), dec!(-50), dec!(0), dec!(30), dec!(-25)]);
        assert_eq!((stats.trades, stats.wins, stats.losses), (5, 2, 2));
        assert_eq!((stats.gross_profit, stats.gross_loss), (dec!(130), dec!(75)));
        assert_eq!(stats.expectancy, Some(dec!(11)));
        assert_eq!(stats.win_rate, Some(0.4));
        assert!(close_enough(stats.profit_factor, 130.0 / 75.0));

        let empty = TradeStats::from_pnls(&[]);
        assert_eq!(
            (empty.trades, empty.win_rate, empty.profit_factor, empty.expectancy),
            (0, None, None, None)
        );
        let only_wins = TradeStats::from_pnls(&[dec!(5), dec!(0)]);
        assert_eq!((only_wins.profit_factor, only_wins.win_rate), (None, Some(0.5)));
        let only_losses = TradeStats::from_pnls(&[dec!(-5)]);
        assert_eq!(only_losses.profit_factor, Some(0.0));
        let huge = TradeStats::from_pnls(&[Decimal::MAX, Decimal::MAX, Decimal::MIN]);
        assert_eq!(huge.gross_profit, Decimal::MAX);
    }

    #[test]
    fn report_metrics_from_a_curve() {
        // Start 100; Jan 1 ends at 110, Jan 2 at 99, Jan 3 at 120: the hand series above.
        let equity = [
            (D0, 105.0),
            (D0 + 23 * HOUR, 110.0),
            (D0 + 29 * HOUR, 95.0),
            (D0 + 47 * HOUR, 99.0),
            (D0 + 71 * HOUR, 120.0),
        ];
        let m = Metrics::from_equity_and_trades(&equity, &[dec!(20)], 100.0);
        assert_eq!(m.daily_returns, 3);
        assert!(close_enough(m.sharpe, 0.447_204_468_971_269_4 * 365_f64.sqrt()));
        assert!(close_enough(m.sortino, 70.0 * 3_f64.sqrt() / 99.0 * 365_f64.sqrt()));
        // Bar by bar: peak 110, trough 95.
        assert!(close_enough(Some(m.max_drawdown), 95.0 / 110.0 - 1.0));
        assert!(close_enough(m.total_return, 0.2));
        // Span 71 hours.
        let years = 71.0 / (365.0 * 24.0);
        assert!(close_enough(m.cagr, 1.2_f64.powf(1.0 / years) - 1.0));
        assert_eq!(m.trades.trades, 1);

        let empty = Metrics::from_equity_and_trades(&[], &[], 100.0);
        assert_eq!((empty.daily_returns, empty.sharpe, empty.cagr, empty.max_drawdown), (0, None, None, 0.0));
        assert_eq!(empty.total_return, Some(0.0));
        let json = serde_json::to_string(&empty).unwrap();
        assert!(json.contains("\"sharpe\":null") && !json.contains("NaN"), "{json}");
    }
}
