//! The exit rule of DESIGN §10 step 6c for one position in one bar, as a pure function.
//!
//! A long has downside levels (liquidation, stop loss, trailing stop) and one upside level (take
//! profit); a short the mirror. If the bar opens beyond a level, that level fills at the open
//! (liquidation over the stops over take profit). Otherwise, if the bar crosses any downside
//! level, the one nearest the open fills at its level (the price met it first); only if none is
//! crossed does a crossed take profit fill at its level. Liquidation is judged on mark prices.
//!
//! Two choices the design leaves open, made here: when the open is beyond both the stop loss and
//! the trailing stop, the reason is the level the price would have met first (the one nearer the
//! previous prices: the higher for a long), ties going to the stop loss; and among downside
//! levels crossed at the same price, liquidation wins over the stop loss over the trailing stop.
//!
//! The code works in "favour" space (`sign * price`, lows and highs swapped for shorts), so one
//! path serves both sides.

use exchange_core::PositionSide;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Why a position closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitReason {
    /// The stop loss level was reached.
    StopLoss,
    /// The take profit level was reached.
    TakeProfit,
    /// The trailing stop (a fraction off the best price since entry) was reached.
    TrailingStop,
    /// The mark price reached the liquidation price: the whole initial margin is lost.
    Liquidation,
    /// The daily loss breaker closed everything at the next open.
    Breaker,
    /// The data ended; closed at the last close.
    EndOfData,
    /// Live only: closed at market by an emergency flatten (SIGUSR2).
    Flatten,
    /// Live only: closed at market because its stop could not be placed or vanished.
    Unprotected,
    /// Live only: closed by something other than this agent (by hand, or an ADL).
    External,
}

impl ExitReason {
    /// The report's spelling (`stop_loss`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::StopLoss => "stop_loss",
            Self::TakeProfit => "take_profit",
            Self::TrailingStop => "trailing_stop",
            Self::Liquidation => "liquidation",
            Self::Breaker => "breaker",
            Self::EndOfData => "end_of_data",
            Self::Flatten => "flatten",
            Self::Unprotected => "unprotected",
            Self::External => "external",
        }
    }
}

/// The levels of one open position at the start of a bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Levels {
    /// Long or short.
    pub side: PositionSide,
    /// Stop loss price.
    pub stop_loss: Decimal,
    /// Take profit price.
    pub take_profit: Decimal,
    /// Trailing stop price (from the best price up to the previous close).
    pub trailing_stop: Decimal,
    /// Liquidation price, if the position can be liquidated.
    pub liquidation: Option<Decimal>,
}

/// The prices of one bar that the exit rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarPrices {
    /// Trade open.
    pub open: Decimal,
    /// Trade high.
    pub high: Decimal,
    /// Trade low.
    pub low: Decimal,
    /// Mark-price open (the trade open when no mark price is given).
    pub mark_open: Decimal,
    /// Mark-price high.
    pub mark_high: Decimal,
    /// Mark-price low.
    pub mark_low: Decimal,
}

/// A level that was reached, and the price it fills at before slippage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitHit {
    /// Which level.
    pub reason: ExitReason,
    /// The fill price: the level, or the open when the bar opened beyond it.
    pub price: Decimal,
}

/// The exit, if any, of a position with `levels` in a bar with `bar` prices.
pub fn exit_in_bar(levels: &Levels, bar: &BarPrices) -> Option<ExitHit> {
    // Negation only flips a sign bit; a multiplication by -1 would cost a full decimal product.
    let short = levels.side == PositionSide::Short;
    let fav = |p: Decimal| if short { -p } else { p };
    let (open, low, high) =
        if short { (-bar.open, -bar.high, -bar.low) } else { (bar.open, bar.low, bar.high) };
    let (mark_open, mark_low) =
        if short { (-bar.mark_open, -bar.mark_high) } else { (bar.mark_open, bar.mark_low) };
    let liq = levels.liquidation.map(fav);
    let stop = fav(levels.stop_loss);
    let trail = fav(levels.trailing_stop);
    let take = fav(levels.take_profit);
    let hit = |reason, price: Decimal| Some(ExitHit { reason, price: fav(price) });

    if liq.is_some_and(|l| mark_open <= l) {
        return hit(ExitReason::Liquidation, mark_open);
    }
    let stop_at_open = open <= stop;
    let trail_at_open = open <= trail;
    if stop_at_open || trail_at_open {
        let reason = if stop_at_open && (!trail_at_open || stop >= trail) {
            ExitReason::StopLoss
        } else {
            ExitReason::TrailingStop
        };
        return hit(reason, open);
    }
    if open >= take {
        return hit(ExitReason::TakeProfit, open);
    }
    // Downside levels crossed inside the bar, in priority order for equal prices.
    let crossed = [
        liq.filter(|l| mark_low <= *l).map(|l| (ExitReason::Liquidation, l)),
        (low <= stop).then_some((ExitReason::StopLoss, stop)),
        (low <= trail).then_some((ExitReason::TrailingStop, trail)),
    ];
    let nearest =
        crossed.into_iter().flatten().fold(None, |best: Option<(ExitReason, Decimal)>, cand| match best {
            Some((_, level)) if level >= cand.1 => best,
            _ => Some(cand),
        });
    if let Some((reason, level)) = nearest {
        return hit(reason, level);
    }
    if high >= take {
        return hit(ExitReason::TakeProfit, take);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn long() -> Levels {
        // Entry 100: stop 97, take 105, trailing from a peak of 104 at 93.6, liquidation 96.
        Levels {
            side: PositionSide::Long,
            stop_loss: dec!(97),
            take_profit: dec!(105),
            trailing_stop: dec!(93.6),
            liquidation: Some(dec!(96)),
        }
    }

    fn short() -> Levels {
        // Entry 100: stop 103, take 95, trailing from a low of 96 at 105.6, liquidation 104.
        Levels {
            side: PositionSide::Short,
            stop_loss: dec!(103),
            take_profit: dec!(95),
            trailing_stop: dec!(105.6),
            liquidation: Some(dec!(104)),
        }
    }

    fn bar(open: Decimal, high: Decimal, low: Decimal) -> BarPrices {
        BarPrices { open, high, low, mark_open: open, mark_high: high, mark_low: low }
    }

    fn exit(reason: ExitReason, price: Decimal) -> Option<ExitHit> {
        Some(ExitHit { reason, price })
    }

    #[test]
    fn long_cases() {
        use ExitReason::*;
        let cases = [
            ("quiet bar", bar(dec!(100), dec!(104), dec!(98)), None),
            ("stop crossed", bar(dec!(100), dec!(101), dec!(96.5)), exit(StopLoss, dec!(97))),
            ("take crossed", bar(dec!(100), dec!(106), dec!(99)), exit(TakeProfit, dec!(105))),
            ("both crossed: the stop wins", bar(dec!(100), dec!(106), dec!(96.5)), exit(StopLoss, dec!(97))),
            ("opens above take", bar(dec!(107), dec!(108), dec!(90)), exit(TakeProfit, dec!(107))),
            ("opens below stop", bar(dec!(96.5), dec!(110), dec!(96.2)), exit(StopLoss, dec!(96.5))),
            ("opens below liquidation", bar(dec!(95), dec!(110), dec!(94)), exit(Liquidation, dec!(95))),
            ("stop nearer than liquidation", bar(dec!(99), dec!(99), dec!(90)), exit(StopLoss, dec!(97))),
            ("touches the stop exactly", bar(dec!(100), dec!(100), dec!(97)), exit(StopLoss, dec!(97))),
            ("touches the take exactly", bar(dec!(100), dec!(105), dec!(100)), exit(TakeProfit, dec!(105))),
        ];
        for (name, b, want) in cases {
            assert_eq!(exit_in_bar(&long(), &b), want, "{name}");
        }
    }

    #[test]
    fn trailing_above_the_stop_fills_first() {
        let levels = Levels { trailing_stop: dec!(98.5), ..long() };
        let got = exit_in_bar(&levels, &bar(dec!(100), dec!(100), dec!(90)));
        assert_eq!(got, exit(ExitReason::TrailingStop, dec!(98.5)));
        let gap = exit_in_bar(&levels, &bar(dec!(96.8), dec!(97), dec!(90)));
        assert_eq!(gap, exit(ExitReason::TrailingStop, dec!(96.8)), "opens below both: the higher level");
    }

    #[test]
    fn liquidation_judged_on_mark_prices() {
        let b = BarPrices { mark_low: dec!(95.9), ..bar(dec!(100), dec!(101), dec!(97.5)) };
        let levels = Levels { stop_loss: dec!(95), ..long() };
        assert_eq!(exit_in_bar(&levels, &b), exit(ExitReason::Liquidation, dec!(96)));
    }

    #[test]
    fn short_cases() {
        use ExitReason::*;
        let cases = [
            ("quiet bar", bar(dec!(100), dec!(102), dec!(96)), None),
            ("stop crossed", bar(dec!(100), dec!(103.5), dec!(99)), exit(StopLoss, dec!(103))),
            ("take crossed", bar(dec!(100), dec!(101), dec!(94)), exit(TakeProfit, dec!(95))),
            ("both crossed: the stop wins", bar(dec!(100), dec!(104.5), dec!(94)), exit(StopLoss, dec!(103))),
            ("opens below take", bar(dec!(93), dec!(110), dec!(92)), exit(TakeProfit, dec!(93))),
            ("opens above stop", bar(dec!(103.5), dec!(103.9), dec!(90)), exit(StopLoss, dec!(103.5))),
            (
                "opens above liquidation",
                bar(dec!(104.2), dec!(105), dec!(90)),
                exit(Liquidation, dec!(104.2)),
            ),
        ];
        for (name, b, want) in cases {
            assert_eq!(exit_in_bar(&short(), &b), want, "{name}");
        }
    }
}
