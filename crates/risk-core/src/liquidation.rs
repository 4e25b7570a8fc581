//! Binance USD-M liquidation price (one-way mode) and maintenance margin, with leverage-bracket
//! support (PROTOCOL.md §7.1-7.2, from Binance's liquidation-price FAQ):
//!
//! ```text
//! LP = (WB - TMM1 + UPNL1 + cumB - Side1 * Position1 * EP1) / (Position1 * MMR_B - Side1 * Position1)
//! Maintenance margin = notional * MMR(bracket) - cum(bracket)
//! cum_n = floor_n * (MMR_n - MMR_{n-1}) + cum_{n-1}        (250,000 * (1% - 0.5%) + 50 = 1,300)
//! ```
//!
//! `WB` is the cross wallet balance, or the position's isolated margin (then `TMM1 = UPNL1 = 0`);
//! `Side1` is +1 long, -1 short; `Position1` the absolute size. A result at or below zero is what
//! Binance shows as "--" (no liquidation); it comes back as `None`, as does a zero denominator
//! or an overflow. The backtester uses isolated margin `qty * entry / leverage` with `mmr` 0.005
//! and `cum` 0 (DESIGN §10 rule 5): [`isolated_liquidation_price_at_leverage`].

use exchange_core::PositionSide;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The inputs of the one-way-mode liquidation formula for one position.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiqInput {
    /// Cross wallet balance, or the isolated margin of this position.
    pub wallet_balance: Decimal,
    /// Maintenance margin of all other positions (cross only; 0 for isolated).
    pub other_maint_margin: Decimal,
    /// Unrealized P&L of all other positions (cross only; 0 for isolated).
    pub other_upnl: Decimal,
    /// Absolute position size.
    pub qty: Decimal,
    /// Entry price.
    pub entry: Decimal,
    /// Maintenance margin rate of this position's bracket.
    pub mmr: Decimal,
    /// Maintenance amount (`cum`) of this position's bracket.
    pub maint_amount: Decimal,
    /// Long or short.
    pub side: PositionSide,
}

/// The liquidation price, or `None` when Binance would show "--": the result is at or below
/// zero, the denominator `qty * (mmr - side)` is zero (no position, or a long with `mmr` 1), or
/// the arithmetic overflows `Decimal`.
pub fn liquidation_price(input: &LiqInput) -> Option<Decimal> {
    let LiqInput { wallet_balance, other_maint_margin, other_upnl, qty, entry, mmr, maint_amount, side } =
        *input;
    let qty = qty.abs();
    let sign = side.sign();
    let numerator = wallet_balance
        .checked_sub(other_maint_margin)?
        .checked_add(other_upnl)?
        .checked_add(maint_amount)?
        .checked_sub(sign.checked_mul(qty)?.checked_mul(entry)?)?;
    let denominator = qty.checked_mul(mmr)?.checked_sub(sign.checked_mul(qty)?)?;
    if denominator.is_zero() {
        return None;
    }
    numerator.checked_div(denominator).filter(|lp| *lp > Decimal::ZERO)
}

/// The liquidation price of an isolated position holding `isolated_margin`; `None` as for
/// [`liquidation_price`].
pub fn isolated_liquidation_price(
    side: PositionSide,
    qty: Decimal,
    entry: Decimal,
    isolated_margin: Decimal,
    mmr: Decimal,
    cum: Decimal,
) -> Option<Decimal> {
    liquidation_price(&LiqInput {
        wallet_balance: isolated_margin,
        other_maint_margin: Decimal::ZERO,
        other_upnl: Decimal::ZERO,
        qty,
        entry,
        mmr,
        maint_amount: cum,
        side,
    })
}

/// The backtester's liquidation price (DESIGN §10 rule 5): isolated margin
/// `qty * entry / leverage`, maintenance amount 0. With `cum` 0 the size cancels out:
/// `entry * (1/leverage - side) / (mmr - side)`. `None` when `leverage` is 0, when the price is
/// at or below zero (a long at 1x cannot be liquidated), or as for [`liquidation_price`].
pub fn isolated_liquidation_price_at_leverage(
    side: PositionSide,
    qty: Decimal,
    entry: Decimal,
    leverage: u32,
    mmr: Decimal,
) -> Option<Decimal> {
    let margin = qty.abs().checked_mul(entry)?.checked_div(Decimal::from(leverage))?;
    isolated_liquidation_price(side, qty, entry, margin, mmr, Decimal::ZERO)
}

/// Maintenance margin `notional * mmr - cum`; `None` only on `Decimal` overflow.
pub fn maintenance_margin(notional: Decimal, mmr: Decimal, cum: Decimal) -> Option<Decimal> {
    notional.checked_mul(mmr)?.checked_sub(cum)
}

/// One leverage bracket from `GET /fapi/v1/leverageBracket`: notionals in
/// `[notional_floor, notional_cap)` use `mmr` and `cum`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bracket {
    /// Lowest position notional of the bracket (`notionalFloor`).
    pub notional_floor: Decimal,
    /// Notional where the next bracket starts (`notionalCap`).
    pub notional_cap: Decimal,
    /// Maintenance margin rate (`maintMarginRatio`).
    pub mmr: Decimal,
    /// Maintenance amount (`cum`).
    pub cum: Decimal,
}

/// A bracket table that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BracketError {
    /// No brackets at all.
    #[error("the bracket table is empty")]
    Empty,
    /// One bracket is malformed or out of order.
    #[error("bracket {index} is invalid: {problem}")]
    Invalid {
        /// Position in the table (0-based).
        index: usize,
        /// What is wrong.
        problem: String,
    },
}

/// The brackets with `cum` recomputed from the recurrence
/// `cum_0 = 0`, `cum_n = floor_n * (mmr_n - mmr_{n-1}) + cum_{n-1}`, which keeps the maintenance
/// margin continuous across bracket edges. The `cum` given in the input is ignored.
///
/// # Errors
/// When the table is empty, a bracket's floor is negative or not below its cap, an `mmr` is not
/// in `[0, 1)`, the floors are not strictly increasing, or the arithmetic overflows.
pub fn cum_for_brackets(brackets: &[Bracket]) -> Result<Vec<Bracket>, BracketError> {
    if brackets.is_empty() {
        return Err(BracketError::Empty);
    }
    let invalid = |index: usize, problem: String| BracketError::Invalid { index, problem };
    let mut out: Vec<Bracket> = Vec::with_capacity(brackets.len());
    for (index, bracket) in brackets.iter().enumerate() {
        if bracket.notional_floor < Decimal::ZERO || bracket.notional_floor >= bracket.notional_cap {
            let problem =
                format!("floor {} is not in [0, cap {})", bracket.notional_floor, bracket.notional_cap);
            return Err(invalid(index, problem));
        }
        if bracket.mmr < Decimal::ZERO || bracket.mmr >= Decimal::ONE {
            return Err(invalid(index, format!("mmr {} is not in [0, 1)", bracket.mmr)));
        }
        let cum = match out.last() {
            None => Decimal::ZERO,
            Some(prev) if prev.notional_floor >= bracket.notional_floor => {
                let problem =
                    format!("floor {} does not rise above {}", bracket.notional_floor, prev.notional_floor);
                return Err(invalid(index, problem));
            }
            Some(prev) => bracket
                .notional_floor
                .checked_mul(bracket.mmr - prev.mmr)
                .and_then(|x| x.checked_add(prev.cum))
                .ok_or_else(|| invalid(index, "cum overflows Decimal".to_owned()))?,
        };
        out.push(Bracket { cum, ..*bracket });
    }
    Ok(out)
}

/// The bracket for a position notional: the last bracket whose floor is at or below it (so a
/// notional at or above the last cap uses the last bracket, one below the first floor the first).
/// `None` only for an empty table. Expects brackets sorted by floor, as [`cum_for_brackets`]
/// checks.
pub fn bracket_for(brackets: &[Bracket], notional: Decimal) -> Option<&Bracket> {
    brackets.iter().rev().find(|b| b.notional_floor <= notional.abs()).or_else(|| brackets.first())
}

/// The liquidation price with the bracket chosen by notional: first the bracket of the entry
/// notional `qty * entry`; if the notional at the computed price `qty * LP` falls in another
/// bracket, the price is recomputed with that bracket, up to once per bracket (a table that
/// would make it cycle ends with the last computed price). `input.mmr` and
/// `input.maint_amount` are replaced by the bracket's. Returns the price and the bracket used;
/// `None` as for [`liquidation_price`] or when `brackets` is empty.
pub fn liquidation_price_in_brackets(input: &LiqInput, brackets: &[Bracket]) -> Option<(Decimal, Bracket)> {
    let mut bracket = *bracket_for(brackets, input.qty.checked_mul(input.entry)?)?;
    let mut price = None;
    for _ in 0..brackets.len() {
        let lp = liquidation_price(&LiqInput { mmr: bracket.mmr, maint_amount: bracket.cum, ..*input })?;
        price = Some((lp, bracket));
        let at_lp = *bracket_for(brackets, input.qty.checked_mul(lp)?)?;
        if at_lp == bracket {
            break;
        }
        bracket = at_lp;
    }
    price
}

#[cfg(test)]
mod tests {
    use super::*;
    use PositionSide::{Long, Short};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    /// PROTOCOL.md §7.2 worked example, as reproduced by `reference/liq_check.py`.
    const WB: Decimal = dec!(1535443.01);
    const BTC: (Decimal, Decimal, Decimal, Decimal, Decimal) =
        (dec!(109.488), dec!(32481.98), dec!(31967.27), dec!(0.025), dec!(16300));
    const ETH: (Decimal, Decimal, Decimal, Decimal, Decimal) =
        (dec!(3683.979), dec!(1456.84), dec!(1335.18), dec!(0.10), dec!(135365));

    /// (maintenance margin at mark, uPnL at mark) of one leg of the example.
    fn mm_and_upnl(leg: (Decimal, Decimal, Decimal, Decimal, Decimal)) -> (Decimal, Decimal) {
        let (qty, entry, mark, mmr, cum) = leg;
        (maintenance_margin(qty * mark, mmr, cum).unwrap(), qty * (mark - entry))
    }

    fn cross(leg: (Decimal, Decimal, Decimal, Decimal, Decimal), other: (Decimal, Decimal)) -> LiqInput {
        let (qty, entry, _, mmr, cum) = leg;
        LiqInput {
            wallet_balance: WB,
            other_maint_margin: other.0,
            other_upnl: other.1,
            qty,
            entry,
            mmr,
            maint_amount: cum,
            side: Long,
        }
    }

    #[test]
    fn protocol_worked_example_cross() {
        let (mm_eth, upnl_eth) = mm_and_upnl(ETH);
        let (mm_btc, upnl_btc) = mm_and_upnl(BTC);
        assert_eq!(mm_eth, dec!(356512.5081220));
        assert_eq!(upnl_eth, dec!(-448192.88514));
        assert_eq!(mm_btc, dec!(71200.81144400));
        assert_eq!(upnl_btc, dec!(-56354.56848));
        let btc = liquidation_price(&cross(BTC, (mm_eth, upnl_eth))).unwrap();
        let eth = liquidation_price(&cross(ETH, (mm_btc, upnl_btc))).unwrap();
        assert_eq!(btc.round_dp(2), dec!(26316.89));
        assert_eq!(eth.round_dp(2), dec!(1153.26));
    }

    #[test]
    fn protocol_worked_example_isolated_formula() {
        // TMM1 = UPNL1 = 0 with the same WB (freqtrade's "isolated" cases).
        let btc = isolated_liquidation_price(Long, BTC.0, BTC.1, WB, BTC.3, BTC.4).unwrap();
        let eth = isolated_liquidation_price(Long, ETH.0, ETH.1, WB, ETH.3, ETH.4).unwrap();
        assert_eq!(btc.round_dp(2), dec!(18778.73));
        assert_eq!(eth.round_dp(2), dec!(1114.78));
    }

    #[test]
    fn isolated_long_and_short_by_hand() {
        // Long 1 BTC at 50,000, 10x: margin 5,000, mmr 0.005, cum 0.
        //   LP = (5,000 + 0 - 1 * 50,000) / (0.005 - 1) = -45,000 / -0.995 = 45,226.1306...
        // Short mirror: LP = (5,000 + 0 + 50,000) / (0.005 + 1) = 55,000 / 1.005 = 54,726.3681...
        let long =
            isolated_liquidation_price(Long, dec!(1), dec!(50000), dec!(5000), dec!(0.005), dec!(0)).unwrap();
        let short = isolated_liquidation_price(Short, dec!(1), dec!(50000), dec!(5000), dec!(0.005), dec!(0))
            .unwrap();
        assert_eq!(long.round_dp(6), dec!(45226.130653));
        assert_eq!(short.round_dp(6), dec!(54726.368159));
        // The backtester's form: margin = qty * entry / leverage; the size cancels.
        for qty in [dec!(1), dec!(0.003), dec!(250)] {
            let at_lev =
                isolated_liquidation_price_at_leverage(Long, qty, dec!(50000), 10, dec!(0.005)).unwrap();
            assert_eq!(at_lev.round_dp(6), dec!(45226.130653), "qty {qty}");
            let at_lev =
                isolated_liquidation_price_at_leverage(Short, qty, dec!(50000), 10, dec!(0.005)).unwrap();
            assert_eq!(at_lev.round_dp(6), dec!(54726.368159), "qty {qty}");
        }
    }

    #[test]
    fn no_liquidation_price_table() {
        let none = [
            // No position: zero denominator.
            isolated_liquidation_price(Long, dec!(0), dec!(50000), dec!(5000), dec!(0.005), dec!(0)),
            // A long with mmr 1: zero denominator.
            isolated_liquidation_price(Long, dec!(1), dec!(50000), dec!(5000), dec!(1), dec!(0)),
            // A long at 1x: LP = 0, shown as "--".
            isolated_liquidation_price_at_leverage(Long, dec!(1), dec!(50000), 1, dec!(0)),
            // Margin beyond the notional: LP < 0.
            isolated_liquidation_price(Long, dec!(1), dec!(50000), dec!(60000), dec!(0.005), dec!(0)),
            // Leverage 0 and overflow.
            isolated_liquidation_price_at_leverage(Long, dec!(1), dec!(50000), 0, dec!(0.005)),
            isolated_liquidation_price(Short, Decimal::MAX, Decimal::MAX, dec!(1), dec!(0.005), dec!(0)),
        ];
        for (i, got) in none.iter().enumerate() {
            assert_eq!(*got, None, "case {i}");
        }
    }

    /// Binance BTCUSDT's first brackets: 0.4 %, 0.5 %, 1 % (the FAQ's 250,000 x (1% - 0.5%) + 50).
    fn btc_brackets() -> Vec<Bracket> {
        let raw = [
            (dec!(0), dec!(50000), dec!(0.004)),
            (dec!(50000), dec!(250000), dec!(0.005)),
            (dec!(250000), dec!(3000000), dec!(0.01)),
        ];
        let given = raw.map(|(notional_floor, notional_cap, mmr)| Bracket {
            notional_floor,
            notional_cap,
            mmr,
            cum: dec!(-1),
        });
        cum_for_brackets(&given).unwrap()
    }

    #[test]
    fn cum_follows_the_faq_recurrence() {
        let brackets = btc_brackets();
        let cums: Vec<Decimal> = brackets.iter().map(|b| b.cum).collect();
        assert_eq!(cums, [dec!(0), dec!(50), dec!(1300)]);
        // Maintenance margin is continuous at each edge.
        for pair in brackets.windows(2) {
            let edge = pair[1].notional_floor;
            let below = maintenance_margin(edge, pair[0].mmr, pair[0].cum).unwrap();
            let above = maintenance_margin(edge, pair[1].mmr, pair[1].cum).unwrap();
            assert_eq!(below, above, "edge {edge}");
        }
        assert_eq!(bracket_for(&brackets, dec!(49999.99)).map(|b| b.mmr), Some(dec!(0.004)));
        assert_eq!(bracket_for(&brackets, dec!(50000)).map(|b| b.mmr), Some(dec!(0.005)));
        assert_eq!(bracket_for(&brackets, dec!(9000000)).map(|b| b.mmr), Some(dec!(0.01)));
        assert_eq!(bracket_for(&[], dec!(1)), None);
    }

    #[test]
    fn bad_bracket_tables_are_refused() {
        let ok = btc_brackets();
        assert_eq!(cum_for_brackets(&[]), Err(BracketError::Empty));
        let mut unsorted = ok.clone();
        unsorted.swap(1, 2);
        assert!(matches!(cum_for_brackets(&unsorted), Err(BracketError::Invalid { index: 2, .. })));
        let mut bad_mmr = ok.clone();
        bad_mmr[1].mmr = dec!(1);
        assert!(matches!(cum_for_brackets(&bad_mmr), Err(BracketError::Invalid { index: 1, .. })));
        let mut empty_range = ok;
        empty_range[0].notional_cap = dec!(0);
        assert!(matches!(cum_for_brackets(&empty_range), Err(BracketError::Invalid { index: 0, .. })));
    }

    #[test]
    fn recomputes_when_the_price_moves_into_another_bracket() {
        let brackets = btc_brackets();
        // Long 5 BTC at 50,000 (250,000: the 1 % bracket), isolated margin 25,000:
        //   1 %:   (25,000 + 1,300 - 250,000) / (0.05 - 5)  = 45,191.92 -> notional 225,960 (0.5 %)
        //   0.5 %: (25,000 + 50 - 250,000) / (0.025 - 5)    = 45,216.08 -> notional 226,080 (0.5 %)
        let long = LiqInput {
            wallet_balance: dec!(25000),
            other_maint_margin: dec!(0),
            other_upnl: dec!(0),
            qty: dec!(5),
            entry: dec!(50000),
            mmr: dec!(0.9),
            maint_amount: dec!(0),
            side: Long,
        };
        let (lp, used) = liquidation_price_in_brackets(&long, &brackets).unwrap();
        assert_eq!((lp.round_dp(2), used.mmr), (dec!(45216.08), dec!(0.005)));
        // Short 4.9 at 50,000 (245,000: 0.5 %), margin 49,000:
        //   0.5 %: (49,000 + 50 + 245,000) / (4.9 * 1.005)   = 59,711.65 -> notional 292,587 (1 %)
        //   1 %:   (49,000 + 1,300 + 245,000) / (4.9 * 1.01) = 59,668.62 -> notional 292,376 (1 %)
        let short = LiqInput { wallet_balance: dec!(49000), qty: dec!(4.9), side: Short, ..long };
        let (lp, used) = liquidation_price_in_brackets(&short, &brackets).unwrap();
        assert_eq!((lp.round_dp(2), used.mmr), (dec!(59668.62), dec!(0.01)));
        assert_eq!(liquidation_price_in_brackets(&short, &[]), None);
    }

    fn decimal(lo: i64, hi: i64, scale: u32) -> impl Strategy<Value = Decimal> {
        (lo..=hi).prop_map(move |m| Decimal::new(m, scale))
    }

    proptest! {
        #[test]
        fn liquidation_is_on_the_losing_side_of_entry(
            qty in decimal(1, 100_000_000, 4),
            entry in decimal(1, 10_000_000_000, 4),
            mmr in decimal(0, 500, 4),
            cum in decimal(0, 10_000, 0),
            margin_share in decimal(1, 20_000, 4),
        ) {
            let notional = qty * entry;
            let maint = maintenance_margin(notional, mmr, cum).unwrap();
            let margin = notional * margin_share;
            prop_assume!(margin > maint);
            if let Some(lp) = isolated_liquidation_price(Long, qty, entry, margin, mmr, cum) {
                prop_assert!(lp < entry, "long LP {lp} not below entry {entry}");
            }
            let short = isolated_liquidation_price(Short, qty, entry, margin, mmr, cum);
            prop_assert!(short.is_some_and(|lp| lp > entry), "short LP {short:?} not above entry {entry}");
        }

        #[test]
        fn backtester_form_brackets_the_entry(
            entry in decimal(1, 10_000_000_000, 4),
            leverage in 1_u32..=125,
        ) {
            // With margin = notional / leverage >= notional * 0.008 > maintenance at mmr 0.005.
            let long = isolated_liquidation_price_at_leverage(Long, dec!(1), entry, leverage, dec!(0.005));
            let short = isolated_liquidation_price_at_leverage(Short, dec!(1), entry, leverage, dec!(0.005));
            prop_assert!(long.is_none_or(|lp| lp < entry));
            prop_assert!(short.is_some_and(|lp| lp > entry));
        }
    }
}
