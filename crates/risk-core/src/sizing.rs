//! Entry decisions of the futures strategy (DESIGN §10 rules 2-4): direction from momentum,
//! leverage from signal strength, quantity from equity at risk capped by the free balance, and
//! the limit on open-or-pending positions. Exact decimal arithmetic throughout.

use exchange_core::{InstrumentRules, Notional, PositionSide, Qty};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use crate::decision::{Decision, Refusal};

/// The side an entry takes for momentum `m`: long when `m > 0`, short when `m < 0`, refused
/// (`SignalBelowThreshold`) when `|m| < threshold` or `m == 0` (rule 2: `|m| >= threshold`).
pub fn entry_direction(momentum: Decimal, threshold: Decimal) -> Decision<PositionSide> {
    let momentum_abs = momentum.abs();
    if momentum.is_zero() || momentum_abs < threshold {
        return Decision::refused(Refusal::SignalBelowThreshold { momentum_abs, threshold });
    }
    Decision::Approved(if momentum > Decimal::ZERO { PositionSide::Long } else { PositionSide::Short })
}

/// Leverage for a signal of strength `|m|` (rule 3):
/// `clamp(floor(min_lev * |m| / threshold), min_lev, max_lev)`, in exact decimal.
///
/// The sign of `momentum_abs` is ignored. Degenerate inputs never panic: a `threshold <= 0`
/// gives `min_lev` (the conservative answer), `max_lev < min_lev` gives `min_lev`, and a ratio
/// too large for `u32` gives `max_lev`.
pub fn leverage_for_signal(momentum_abs: Decimal, threshold: Decimal, min_lev: u32, max_lev: u32) -> u32 {
    if threshold <= Decimal::ZERO {
        return min_lev;
    }
    let upper = max_lev.max(min_lev);
    let ratio = Decimal::from(min_lev).checked_mul(momentum_abs.abs()).and_then(|x| x.checked_div(threshold));
    let raw = ratio.map_or(upper, |x| x.floor().to_u32().unwrap_or(upper));
    raw.clamp(min_lev, upper)
}

/// Refuses a new entry when `open_or_pending` positions already use all `max_positions` slots
/// (rule 2: fewer than `max_positions` open or pending).
pub fn position_slots(open_or_pending: usize, max_positions: usize) -> Decision<()> {
    if open_or_pending >= max_positions {
        Decision::refused(Refusal::MaxPositions { open: open_or_pending, max: max_positions })
    } else {
        Decision::Approved(())
    }
}

/// Everything [`size_entry`] needs, decided at the close of bar t. Money in quote currency.
#[derive(Debug, Clone, Copy)]
pub struct SizingInput<'a> {
    /// Wallet balance (realized) plus unrealized P&L at this close.
    pub equity: Decimal,
    /// Free balance: wallet balance minus the initial margin of open positions and of entries
    /// already decided at this close.
    pub free: Decimal,
    /// Fraction of equity risked per trade (0.05).
    pub risk_per_trade: Decimal,
    /// Stop-loss distance as a fraction of the entry price (0.03).
    pub stop_loss: Decimal,
    /// Leverage of this entry (from [`leverage_for_signal`]).
    pub leverage: u32,
    /// The price the size is computed at: `close[t]`.
    pub price: Decimal,
    /// The instrument's step, minimum quantity and minimum notional.
    pub rules: &'a InstrumentRules,
}

/// An approved entry size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizedEntry {
    /// Quantity, on the step grid.
    pub qty: Qty,
    /// `qty * price`.
    pub notional: Decimal,
    /// `qty * price / leverage`: the margin the entry takes from the free balance.
    pub initial_margin: Decimal,
    /// The leverage it was sized with.
    pub leverage: u32,
}

fn overflow(field: &'static str) -> Refusal {
    Refusal::invalid(field, "arithmetic overflows Decimal")
}

/// Sizes an entry (rule 4).
///
/// `notional = equity * risk_per_trade / stop_loss`; when its initial margin
/// `notional / leverage` exceeds the free balance, `notional = free * leverage`; then
/// `qty = notional / price` is capped at the instrument's `max_qty` (when set) and rounded down
/// to the step grid. The result never exceeds either cap: `qty * price <= notional` and
/// `initial_margin <= free` hold exactly.
///
/// Refused, in this order, when: the price, step size, stop loss or risk per trade is not
/// positive, or the leverage is 0 (`InvalidInput`); equity is not positive (`NoEquity`); the free
/// balance is not positive (`InsufficientMargin`); the quantity rounds to zero (`ZeroQty`), is
/// under `min_qty` (`BelowMinQty`), or `qty * price` is under `min_notional`
/// (`BelowMinNotional`); or the arithmetic overflows `Decimal` (`InvalidInput`).
pub fn size_entry(input: &SizingInput<'_>) -> Decision<SizedEntry> {
    match size_entry_inner(input) {
        Ok(entry) => Decision::Approved(entry),
        Err(reason) => Decision::refused(reason),
    }
}

fn size_entry_inner(input: &SizingInput<'_>) -> Result<SizedEntry, Refusal> {
    let SizingInput { equity, free, risk_per_trade, stop_loss, leverage, price, rules } = *input;
    let step = rules.step_size;
    if price <= Decimal::ZERO {
        return Err(Refusal::invalid("price", format!("{price} is not positive")));
    }
    if !step.is_positive() {
        return Err(Refusal::invalid("step_size", format!("{step} is not positive")));
    }
    if stop_loss <= Decimal::ZERO {
        return Err(Refusal::invalid("stop_loss", format!("{stop_loss} is not positive")));
    }
    if risk_per_trade <= Decimal::ZERO {
        return Err(Refusal::invalid("risk_per_trade", format!("{risk_per_trade} is not positive")));
    }
    if leverage == 0 {
        return Err(Refusal::invalid("leverage", "0 is not a leverage"));
    }
    if equity <= Decimal::ZERO {
        return Err(Refusal::NoEquity { equity: Notional::new(equity) });
    }
    let lev = Decimal::from(leverage);
    let target = equity
        .checked_mul(risk_per_trade)
        .and_then(|x| x.checked_div(stop_loss))
        .ok_or_else(|| overflow("notional"))?;
    // lev >= 1, so this division cannot fail.
    let needed = target.checked_div(lev).ok_or_else(|| overflow("initial_margin"))?;
    if free <= Decimal::ZERO {
        return Err(Refusal::InsufficientMargin { free: Notional::new(free), needed: Notional::new(needed) });
    }
    let cap = if needed > free { free.checked_mul(lev).ok_or_else(|| overflow("notional"))? } else { target };
    let mut raw_qty = cap.checked_div(price).ok_or_else(|| overflow("qty"))?;
    if let Some(max) = rules.max_qty {
        raw_qty = raw_qty.min(max.get());
    }
    let raw_qty = Qty::new(raw_qty);
    let mut qty = rules.floor_qty(raw_qty).get();
    // `cap / price` is rounded to 28 significant digits and may land a hair above the exact
    // quotient, right on a grid point; one step back restores `qty * price <= cap`.
    let value = |q: Decimal| q.checked_mul(price).ok_or_else(|| overflow("notional"));
    if value(qty)? > cap {
        qty -= step.get();
    }
    if qty <= Decimal::ZERO {
        return Err(Refusal::ZeroQty { raw_qty, step });
    }
    let qty = Qty::new(qty);
    if qty < rules.min_qty {
        return Err(Refusal::BelowMinQty { qty, min: rules.min_qty });
    }
    let notional = value(qty.get())?;
    if notional < rules.min_notional.get() {
        return Err(Refusal::BelowMinNotional { notional: Notional::new(notional), min: rules.min_notional });
    }
    let initial_margin = notional.checked_div(lev).ok_or_else(|| overflow("initial_margin"))?;
    Ok(SizedEntry { qty, notional, initial_margin, leverage })
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange_core::{Price, Symbol};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn rules(
        step: Decimal,
        min_qty: Decimal,
        max_qty: Option<Decimal>,
        min_notional: Decimal,
    ) -> InstrumentRules {
        InstrumentRules {
            symbol: Symbol::new("BTCUSDT").unwrap(),
            tick_size: Price::new(dec!(0.1)),
            step_size: Qty::new(step),
            min_qty: Qty::new(min_qty),
            max_qty: max_qty.map(Qty::new),
            min_notional: Notional::new(min_notional),
        }
    }

    fn input(
        rules: &InstrumentRules,
        equity: Decimal,
        free: Decimal,
        lev: u32,
        price: Decimal,
    ) -> SizingInput<'_> {
        SizingInput {
            equity,
            free,
            risk_per_trade: dec!(0.05),
            stop_loss: dec!(0.03),
            leverage: lev,
            price,
            rules,
        }
    }

    #[test]
    fn leverage_table() {
        // (|m|, threshold, min, max, want): 5 * |m| / 0.02 floored, clamped to [5, 25].
        let cases = [
            (dec!(0.02), dec!(0.02), 5, 25, 5),
            (dec!(0.039), dec!(0.02), 5, 25, 9), // 9.75
            (dec!(0.04), dec!(0.02), 5, 25, 10),
            (dec!(0.05), dec!(0.02), 5, 25, 12), // 12.5
            (dec!(0.1), dec!(0.02), 5, 25, 25),
            (dec!(0.5), dec!(0.02), 5, 25, 25),
            (dec!(0.01), dec!(0.02), 5, 25, 5), // under the threshold: the floor holds
            (dec!(-0.05), dec!(0.02), 5, 25, 12),
            (dec!(0.05), dec!(0), 5, 25, 5),
            (dec!(0.05), dec!(-0.02), 5, 25, 5),
            (dec!(0.05), dec!(0.02), 10, 5, 10),
            (Decimal::MAX, dec!(0.0000001), 5, 25, 25),
        ];
        for (m, threshold, min, max, want) in cases {
            assert_eq!(leverage_for_signal(m, threshold, min, max), want, "|m| {m} threshold {threshold}");
        }
    }

    #[test]
    fn direction_follows_momentum_sign() {
        assert_eq!(entry_direction(dec!(0.02), dec!(0.02)).approved(), Some(PositionSide::Long));
        assert_eq!(entry_direction(dec!(-0.025), dec!(0.02)).approved(), Some(PositionSide::Short));
        let below = entry_direction(dec!(-0.0199), dec!(0.02));
        assert_eq!(
            below.refusal(),
            Some(&Refusal::SignalBelowThreshold { momentum_abs: dec!(0.0199), threshold: dec!(0.02) })
        );
        assert!(!entry_direction(dec!(0), dec!(0)).is_approved());
    }

    #[test]
    fn slots_table() {
        assert!(position_slots(0, 3).is_approved());
        assert!(position_slots(2, 3).is_approved());
        assert_eq!(position_slots(3, 3).refusal(), Some(&Refusal::MaxPositions { open: 3, max: 3 }));
        assert!(!position_slots(0, 0).is_approved());
    }

    #[test]
    fn sizes_from_risk_when_margin_fits() {
        // 10,000 * 0.05 / 0.03 = 16,666.67; / 50,000 = 0.33333 -> 0.333 BTC; 16,650 notional;
        // margin at 10x 1,665 fits the free 10,000.
        let r = rules(dec!(0.001), dec!(0.001), None, dec!(5));
        let got = size_entry(&input(&r, dec!(10000), dec!(10000), 10, dec!(50000))).approved().unwrap();
        assert_eq!(got.qty.get(), dec!(0.333));
        assert_eq!(got.notional, dec!(16650));
        assert_eq!(got.initial_margin, dec!(1665));
        assert_eq!(got.leverage, 10);
    }

    #[test]
    fn caps_notional_at_free_balance_times_leverage() {
        // Margin 16,666.67 / 5 = 3,333 exceeds free 1,000: notional = 1,000 * 5 = 5,000 -> 0.1 BTC,
        // margin exactly 1,000.
        let r = rules(dec!(0.001), dec!(0.001), None, dec!(5));
        let got = size_entry(&input(&r, dec!(10000), dec!(1000), 5, dec!(50000))).approved().unwrap();
        assert_eq!(got.qty.get(), dec!(0.100));
        assert_eq!(got.initial_margin, dec!(1000));
    }

    #[test]
    fn caps_qty_at_max_qty() {
        let r = rules(dec!(0.001), dec!(0.001), Some(dec!(0.2)), dec!(5));
        let got = size_entry(&input(&r, dec!(10000), dec!(10000), 10, dec!(50000))).approved().unwrap();
        assert_eq!(got.qty.get(), dec!(0.2));
    }

    #[test]
    fn refusals_table() {
        let step = rules(dec!(0.001), dec!(0), None, dec!(5));
        let min_notional = rules(dec!(0.0001), dec!(0), None, dec!(100));
        let min_qty = rules(dec!(0.001), dec!(0.01), None, dec!(5));
        let zero_step = rules(dec!(0), dec!(0), None, dec!(5));
        let cases: [(SizingInput<'_>, &str); 8] = [
            // 10 * 0.05 / 0.03 = 16.67 -> 0.000333 BTC -> 0 on step 0.001.
            (input(&step, dec!(10), dec!(10), 10, dec!(50000)), "zero_qty"),
            // 50 * 0.05 / 0.03 = 83.33 -> 0.0016 BTC = 80 USDT < 100.
            (input(&min_notional, dec!(50), dec!(50), 10, dec!(50000)), "below_min_notional"),
            // 300 * 0.05 / 0.03 = 500 USDT -> 0.005 BTC at 100,000, under the minimum 0.01.
            (input(&min_qty, dec!(300), dec!(300), 10, dec!(100000)), "below_min_qty"),
            (input(&step, dec!(10000), dec!(0), 10, dec!(50000)), "insufficient_margin"),
            (input(&step, dec!(10000), dec!(-5), 10, dec!(50000)), "insufficient_margin"),
            (input(&step, dec!(0), dec!(100), 10, dec!(50000)), "no_equity"),
            (input(&step, dec!(10000), dec!(10000), 10, dec!(0)), "invalid_input"),
            (input(&zero_step, dec!(10000), dec!(10000), 10, dec!(50000)), "invalid_input"),
        ];
        for (case, want) in cases {
            let got = size_entry(&case);
            assert_eq!(got.refusal().map(Refusal::code), Some(want), "{case:?} -> {got:?}");
        }
        let no_lev = SizingInput { leverage: 0, ..input(&step, dec!(10000), dec!(10000), 10, dec!(50000)) };
        assert_eq!(size_entry(&no_lev).refusal().map(Refusal::code), Some("invalid_input"));
        let no_stop =
            SizingInput { stop_loss: dec!(0), ..input(&step, dec!(10000), dec!(10000), 10, dec!(50000)) };
        assert_eq!(size_entry(&no_stop).refusal().map(Refusal::code), Some("invalid_input"));
    }

    #[test]
    fn huge_inputs_refuse_instead_of_panicking() {
        let r = rules(dec!(0.001), dec!(0), None, dec!(5));
        let huge = SizingInput {
            stop_loss: dec!(0.0000000001),
            ..input(&r, Decimal::MAX, Decimal::MAX, 125, dec!(1))
        };
        assert_eq!(size_entry(&huge).refusal().map(Refusal::code), Some("invalid_input"));
    }

    fn decimal(lo: i64, hi: i64, scale: u32) -> impl Strategy<Value = Decimal> {
        (lo..=hi).prop_map(move |m| Decimal::new(m, scale))
    }

    proptest! {
        #[test]
        fn sized_entry_respects_both_caps_and_the_grid(
            equity in decimal(1, 1_000_000_000, 2),
            free_share in decimal(-100, 1000, 3),
            risk in decimal(1, 200, 3),
            stop in decimal(1, 200, 3),
            leverage in 1_u32..=125,
            price in decimal(1, 1_000_000_000, 4),
            step in prop::sample::select(vec![dec!(1), dec!(0.1), dec!(0.001), dec!(0.00001), dec!(0.3)]),
            min_notional in decimal(0, 1000, 2),
        ) {
            let r = rules(step, dec!(0), None, min_notional);
            let free = equity * free_share;
            let case = SizingInput { equity, free, risk_per_trade: risk, stop_loss: stop, leverage, price, rules: &r };
            if let Decision::Approved(got) = size_entry(&case) {
                let target = equity * risk / stop;
                let lev = Decimal::from(leverage);
                prop_assert!(got.qty.is_positive());
                prop_assert!((got.qty.get() % step).is_zero(), "{} off grid {step}", got.qty);
                prop_assert!(got.initial_margin <= free, "margin {} > free {free}", got.initial_margin);
                prop_assert!(got.notional <= target + dec!(0.000000001), "{} > {target}", got.notional);
                prop_assert!(got.notional >= min_notional);
                prop_assert_eq!(got.notional, got.qty.get() * price);
                // Not undersized: one more step would break a cap.
                let cap = target.min(free * lev);
                prop_assert!((got.qty.get() + step) * price > cap - dec!(0.000000001));
            }
        }

        #[test]
        fn leverage_stays_within_bounds(
            m in decimal(-10_000_000, 10_000_000, 6),
            threshold in decimal(1, 100_000, 6),
            min in 1_u32..=50,
            span in 0_u32..=100,
        ) {
            let max = min + span;
            let lev = leverage_for_signal(m, threshold, min, max);
            prop_assert!((min..=max).contains(&lev), "{lev} outside [{min}, {max}]");
        }
    }
}
