//! Entry sizing of the spot agent (DESIGN §11): volatility-targeted, capped per asset, paid in
//! cash, rounded down to the instrument's step.
//!
//! `value = equity * min(target_vol / asset_vol, max_fraction)`: a position whose asset moves
//! `asset_vol` a year (annualized volatility) contributes about `target_vol` of the equity's
//! yearly volatility, and never more than `max_fraction` of equity goes into one asset. Spot
//! buys are paid in full, so the value is also capped by the cash left after the fee
//! (`cash / (1 + fee)`). Then `qty = floor(value / price)` on the step grid (and under
//! `max_qty`), refused under the minimum quantity or notional. The ratio is statistics (`f64`);
//! the cap, the cash and the quantity are exact decimals.

use exchange_core::{InstrumentRules, Notional, Qty};
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;

use crate::decision::{Decision, Refusal};

/// Everything [`size_spot_entry`] needs, decided at the close of bar t. Money in quote currency.
#[derive(Debug, Clone, Copy)]
pub struct SpotSizingInput<'a> {
    /// Cash plus the market value of holdings at this close.
    pub equity: Decimal,
    /// Cash not yet committed (to entries already decided at this close).
    pub cash: Decimal,
    /// The price the size is computed at: `close[t]`.
    pub price: Decimal,
    /// The asset's annualized volatility (for example the standard deviation of hourly log
    /// returns times `sqrt(8760)`).
    pub asset_vol: f64,
    /// The annualized volatility one position may contribute, as a fraction of equity (0.06).
    pub target_vol: f64,
    /// The most of equity one asset may take (0.10).
    pub max_fraction: Decimal,
    /// Taker fee rate, paid on top of the value from cash.
    pub fee: Decimal,
    /// The instrument's step, minimum quantity and minimum notional.
    pub rules: &'a InstrumentRules,
}

/// An approved spot entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpotSize {
    /// Quantity, on the step grid.
    pub qty: Qty,
    /// `qty * price`.
    pub value: Decimal,
    /// The value before rounding: what volatility, the per-asset cap and the cash allowed.
    pub target_value: Decimal,
}

/// The fraction of equity volatility targeting asks for: `min(target_vol / asset_vol,
/// max_fraction)`, as a decimal; `max_fraction` when the asset's volatility is not positive
/// or not finite (no estimate: the cap decides).
pub fn vol_target_fraction(target_vol: f64, asset_vol: f64, max_fraction: Decimal) -> Decimal {
    let ratio = if asset_vol.is_finite() && asset_vol > 0.0 { target_vol / asset_vol } else { f64::INFINITY };
    match Decimal::from_f64(ratio) {
        Some(r) if r >= Decimal::ZERO => r.min(max_fraction),
        Some(_) => Decimal::ZERO,
        None => max_fraction,
    }
}

/// Sizes a spot entry (see the module notes).
///
/// Refused, in this order, when: the price or step is not positive (`InvalidInput`); equity is
/// not positive (`NoEquity`); the cash is not positive (`InsufficientMargin`, the margin of a
/// spot buy being its whole value); the quantity rounds to zero (`ZeroQty`), is under `min_qty`
/// (`BelowMinQty`), or its value is under `min_notional` (`BelowMinNotional`).
pub fn size_spot_entry(input: &SpotSizingInput<'_>) -> Decision<SpotSize> {
    let SpotSizingInput { equity, cash, price, asset_vol, target_vol, max_fraction, fee, rules } = *input;
    if price <= Decimal::ZERO {
        return Decision::refused(Refusal::invalid("price", format!("{price} is not positive")));
    }
    if equity <= Decimal::ZERO {
        return Decision::refused(Refusal::NoEquity { equity: Notional::new(equity) });
    }
    let fraction = vol_target_fraction(target_vol, asset_vol, max_fraction);
    let wanted = equity * fraction;
    if cash <= Decimal::ZERO {
        return Decision::refused(Refusal::InsufficientMargin {
            free: Notional::new(cash),
            needed: Notional::new(wanted),
        });
    }
    let affordable = cash / (Decimal::ONE + fee.max(Decimal::ZERO));
    size_for_value(wanted.min(affordable), price, rules)
}

/// The largest quantity on the step grid (and under `max_qty`) worth at most `value` at `price`,
/// checked against the minimums; refused as [`size_spot_entry`] says.
pub fn size_for_value(value: Decimal, price: Decimal, rules: &InstrumentRules) -> Decision<SpotSize> {
    let step = rules.step_size;
    if price <= Decimal::ZERO {
        return Decision::refused(Refusal::invalid("price", format!("{price} is not positive")));
    }
    if !step.is_positive() {
        return Decision::refused(Refusal::invalid("step_size", format!("{step} is not positive")));
    }
    let Some(mut raw) = value.max(Decimal::ZERO).checked_div(price) else {
        return Decision::refused(Refusal::invalid("qty", "arithmetic overflows Decimal"));
    };
    if let Some(max) = rules.max_qty {
        raw = raw.min(max.get());
    }
    let raw_qty = Qty::new(raw);
    let mut qty = rules.floor_qty(raw_qty).get();
    // `value / price` is rounded to 28 digits and may land a hair above the exact quotient.
    if qty * price > value {
        qty -= step.get();
    }
    if qty <= Decimal::ZERO {
        return Decision::refused(Refusal::ZeroQty { raw_qty, step });
    }
    let qty = Qty::new(qty);
    if qty < rules.min_qty {
        return Decision::refused(Refusal::BelowMinQty { qty, min: rules.min_qty });
    }
    let notional = qty.get() * price;
    if notional < rules.min_notional.get() {
        return Decision::refused(Refusal::BelowMinNotional {
            notional: Notional::new(notional),
            min: rules.min_notional,
        });
    }
    Decision::Approved(SpotSize { qty, value: notional, target_value: value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use exchange_core::{Price, Symbol};
    use rust_decimal_macros::dec;

    fn rules() -> InstrumentRules {
        InstrumentRules {
            symbol: Symbol::new("ETHUSDT").unwrap(),
            tick_size: Price::new(dec!(0.01)),
            step_size: Qty::new(dec!(0.001)),
            min_qty: Qty::new(dec!(0.001)),
            max_qty: None,
            min_notional: Notional::new(dec!(5)),
        }
    }

    fn input(rules: &InstrumentRules, cash: Decimal, asset_vol: f64) -> SpotSizingInput<'_> {
        SpotSizingInput {
            equity: dec!(10000),
            cash,
            price: dec!(2000),
            asset_vol,
            target_vol: 0.06,
            max_fraction: dec!(0.10),
            fee: dec!(0.001),
            rules,
        }
    }

    #[test]
    fn sizing_table() {
        let r = rules();
        // (cash, asset vol, expected qty): vol 0.80 -> 0.06 / 0.80 = 7.5 % -> 750 USDT -> 0.375;
        // vol 0.30 -> 20 % capped at 10 % -> 1000 USDT -> 0.5; no vol estimate -> the cap;
        // cash 300 -> 300 / 1.001 = 299.70 -> 0.149; cash 6 -> 5.994 -> 0.002 = 4 USDT < 5: refused.
        let cases = [
            (dec!(10000), 0.80, Some(dec!(0.375))),
            (dec!(10000), 0.30, Some(dec!(0.5))),
            (dec!(10000), 0.0, Some(dec!(0.5))),
            (dec!(10000), f64::NAN, Some(dec!(0.5))),
            (dec!(300), 0.80, Some(dec!(0.149))),
            (dec!(6), 0.80, None),
        ];
        for (cash, vol, want) in cases {
            let got = size_spot_entry(&input(&r, cash, vol)).approved().map(|s| s.qty.get());
            assert_eq!(got, want, "cash {cash} vol {vol}");
        }
    }

    #[test]
    fn refusals_name_the_reason() {
        let r = rules();
        let no_cash = size_spot_entry(&input(&r, dec!(0), 0.8));
        assert_eq!(no_cash.refusal().map(Refusal::code), Some("insufficient_margin"));
        let tiny = size_for_value(dec!(1), dec!(2000), &r);
        assert_eq!(tiny.refusal().map(Refusal::code), Some("zero_qty"));
        let small = size_for_value(dec!(4.5), dec!(2000), &r);
        assert_eq!(small.refusal().map(Refusal::code), Some("below_min_notional"));
        let no_equity = size_spot_entry(&SpotSizingInput { equity: dec!(0), ..input(&r, dec!(10), 0.8) });
        assert_eq!(no_equity.refusal().map(Refusal::code), Some("no_equity"));
    }

    #[test]
    fn value_is_never_exceeded() {
        let r = rules();
        for value in [dec!(5), dec!(10.0001), dec!(999.999), dec!(1234.5678)] {
            if let Some(size) = size_for_value(value, dec!(3.3333), &r).approved() {
                assert!(size.value <= value, "{value}: {size:?}");
                assert!(value - size.value < dec!(0.001) * dec!(3.3333));
            }
        }
    }
}
