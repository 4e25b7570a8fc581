//! Accounts: spot balances (free and locked per asset) and the USD-M account (one USDT wallet,
//! per-symbol leverage and margin type, one-way positions), with the margin arithmetic that
//! Binance's account endpoints report.
//!
//! Definitions (USD-M, one-way mode, USDT only):
//! - `wallet` is the total wallet balance; the isolated wallets are part of it, and
//!   `cross wallet = wallet - sum(isolated wallets)`;
//! - position initial margin `|amount| * mark / leverage`; maintenance margin
//!   `notional * mmr - cum` from the symbol's leverage bracket;
//! - `available = cross wallet + cross uPnL - cross position IM - open order IM`;
//! - liquidation price from risk-core with the wallet (cross) or isolated wallet, and for cross the
//!   maintenance margin and uPnL of the other cross positions (PROTOCOL.md §7.2).

use std::collections::BTreeMap;

use exchange_core::PositionSide;
use risk_core::{LiqInput, bracket_for, liquidation_price_in_brackets};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::catalog::{SymbolId, SymbolSpec};

/// Free and locked amounts of one spot asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpotBalance {
    /// Available.
    pub free: Decimal,
    /// Held by open orders.
    pub locked: Decimal,
}

/// A spot account.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SpotAccount {
    /// Balances by asset.
    pub balances: BTreeMap<String, SpotBalance>,
    /// Last change (market ms).
    pub update_time: i64,
}

impl SpotAccount {
    /// The balance of `asset` (zero if never held).
    pub fn balance(&self, asset: &str) -> SpotBalance {
        self.balances.get(asset).copied().unwrap_or_default()
    }

    fn entry(&mut self, asset: &str) -> &mut SpotBalance {
        self.balances.entry(asset.to_owned()).or_default()
    }

    /// Moves `amount` of `asset` from free to locked; false (and no change) if not enough is free.
    pub fn lock(&mut self, asset: &str, amount: Decimal) -> bool {
        let balance = self.entry(asset);
        if balance.free < amount {
            return false;
        }
        balance.free -= amount;
        balance.locked += amount;
        true
    }

    /// Moves up to `amount` of `asset` from locked back to free.
    pub fn unlock(&mut self, asset: &str, amount: Decimal) {
        let balance = self.entry(asset);
        let amount = amount.min(balance.locked);
        balance.locked -= amount;
        balance.free += amount;
    }

    /// Adds `amount` to the free balance (negative to take it away).
    pub fn credit(&mut self, asset: &str, amount: Decimal) {
        self.entry(asset).free += amount;
    }

    /// Takes `amount` out of the locked balance.
    pub fn debit_locked(&mut self, asset: &str, amount: Decimal) {
        let balance = self.entry(asset);
        balance.locked -= amount.min(balance.locked);
    }
}

/// Cross or isolated margin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum MarginType {
    /// Shared wallet (Binance's default).
    #[default]
    Cross,
    /// Margin set aside per position.
    Isolated,
}

impl MarginType {
    /// The lower-case word of position reports (`cross`, `isolated`).
    pub fn as_lower(self) -> &'static str {
        match self {
            Self::Cross => "cross",
            Self::Isolated => "isolated",
        }
    }

    /// Parses the `marginType` parameter (`CROSSED` or `ISOLATED`, any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "CROSSED" | "CROSS" => Some(Self::Cross),
            "ISOLATED" => Some(Self::Isolated),
            _ => None,
        }
    }
}

/// Per-symbol settings of a USD-M account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolConfig {
    /// Leverage (Binance's default is 20).
    pub leverage: u32,
    /// Margin type.
    pub margin_type: MarginType,
}

impl Default for SymbolConfig {
    fn default() -> Self {
        Self { leverage: 20, margin_type: MarginType::Cross }
    }
}

/// A one-way USD-M position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Position {
    /// Signed size: positive long, negative short.
    pub amount: Decimal,
    /// Average entry price.
    pub entry: Decimal,
    /// Margin set aside (isolated only).
    pub isolated_wallet: Decimal,
    /// Realized profit since the position opened (fees excluded).
    pub realized: Decimal,
    /// Last change (market ms).
    pub update_time: i64,
}

impl Position {
    /// Unrealized profit at `mark`.
    pub fn upnl(&self, mark: Decimal) -> Decimal {
        self.amount * (mark - self.entry)
    }

    /// Long or short (long for a flat position).
    pub fn side(&self) -> PositionSide {
        if self.amount.is_sign_negative() { PositionSide::Short } else { PositionSide::Long }
    }
}

/// A USD-M account.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FuturesAccount {
    /// Total USDT wallet balance (isolated wallets included).
    pub wallet: Decimal,
    /// Per-symbol leverage and margin type (absent: the defaults).
    pub configs: BTreeMap<SymbolId, SymbolConfig>,
    /// Open positions (a zero amount is removed).
    pub positions: BTreeMap<SymbolId, Position>,
    /// Last change (market ms).
    pub update_time: i64,
}

/// Marks by symbol, for the account arithmetic.
pub trait Marks {
    /// The mark price of `id`.
    fn mark_of(&self, id: SymbolId) -> Decimal;
    /// The spec of `id`.
    fn spec_of(&self, id: SymbolId) -> &SymbolSpec;
}

/// Maintenance margin of a position of `notional` on `spec` (bracket by notional).
pub fn maint_margin(spec: &SymbolSpec, notional: Decimal) -> Decimal {
    bracket_for(&spec.brackets, notional).map_or(notional * Decimal::new(5, 3), |b| notional * b.mmr - b.cum)
}

impl FuturesAccount {
    /// The settings of `id`.
    pub fn config(&self, id: SymbolId) -> SymbolConfig {
        self.configs.get(&id).copied().unwrap_or_default()
    }

    /// The position on `id` (flat if none).
    pub fn position(&self, id: SymbolId) -> Position {
        self.positions.get(&id).copied().unwrap_or_default()
    }

    /// Sum of the isolated wallets.
    pub fn isolated_total(&self) -> Decimal {
        self.positions.values().map(|p| p.isolated_wallet).sum()
    }

    /// Wallet minus the isolated wallets.
    pub fn cross_wallet(&self) -> Decimal {
        self.wallet - self.isolated_total()
    }

    fn is_cross(&self, id: SymbolId) -> bool {
        self.config(id).margin_type == MarginType::Cross
    }

    /// Unrealized profit of the cross positions.
    pub fn cross_upnl(&self, marks: &dyn Marks) -> Decimal {
        self.positions
            .iter()
            .filter(|(id, _)| self.is_cross(**id))
            .map(|(id, p)| p.upnl(marks.mark_of(*id)))
            .sum()
    }

    /// Unrealized profit of every position.
    pub fn total_upnl(&self, marks: &dyn Marks) -> Decimal {
        self.positions.iter().map(|(id, p)| p.upnl(marks.mark_of(*id))).sum()
    }

    /// Initial margin of the position on `id` at its mark.
    pub fn position_im(&self, id: SymbolId, marks: &dyn Marks) -> Decimal {
        let p = self.position(id);
        p.amount.abs() * marks.mark_of(id) / Decimal::from(self.config(id).leverage.max(1))
    }

    /// Maintenance margin of the position on `id` at its mark.
    pub fn position_mm(&self, id: SymbolId, marks: &dyn Marks) -> Decimal {
        let notional = self.position(id).amount.abs() * marks.mark_of(id);
        maint_margin(marks.spec_of(id), notional)
    }

    /// Initial margin of the cross positions.
    pub fn cross_position_im(&self, marks: &dyn Marks) -> Decimal {
        self.positions.keys().filter(|id| self.is_cross(**id)).map(|id| self.position_im(*id, marks)).sum()
    }

    /// `cross wallet + cross uPnL - cross position IM - open_order_im`.
    pub fn available(&self, marks: &dyn Marks, open_order_im: Decimal) -> Decimal {
        self.cross_wallet() + self.cross_upnl(marks) - self.cross_position_im(marks) - open_order_im
    }

    /// Liquidation price of the position on `id` (None when flat or never liquidated).
    pub fn liquidation_price(&self, id: SymbolId, marks: &dyn Marks) -> Option<Decimal> {
        let p = self.position(id);
        if p.amount.is_zero() {
            return None;
        }
        let spec = marks.spec_of(id);
        let input = if self.is_cross(id) {
            let others = self.positions.keys().filter(|o| **o != id && self.is_cross(**o));
            let (mut mm, mut upnl) = (Decimal::ZERO, Decimal::ZERO);
            for other in others {
                mm += self.position_mm(*other, marks);
                upnl += self.position(*other).upnl(marks.mark_of(*other));
            }
            LiqInput {
                wallet_balance: self.cross_wallet(),
                other_maint_margin: mm,
                other_upnl: upnl,
                qty: p.amount.abs(),
                entry: p.entry,
                mmr: Decimal::ZERO,
                maint_amount: Decimal::ZERO,
                side: p.side(),
            }
        } else {
            LiqInput {
                wallet_balance: p.isolated_wallet,
                other_maint_margin: Decimal::ZERO,
                other_upnl: Decimal::ZERO,
                qty: p.amount.abs(),
                entry: p.entry,
                mmr: Decimal::ZERO,
                maint_amount: Decimal::ZERO,
                side: p.side(),
            }
        };
        liquidation_price_in_brackets(&input, &spec.brackets).map(|(lp, _)| lp)
    }
}

/// One account: its name, spot and USD-M sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    /// Name from the config.
    pub name: String,
    /// Spot balances.
    pub spot: SpotAccount,
    /// USD-M account.
    pub futures: FuturesAccount,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, Venue};
    use rust_decimal_macros::dec;

    struct Fixed(Catalog, Decimal);
    impl Marks for Fixed {
        fn mark_of(&self, _: SymbolId) -> Decimal {
            self.1
        }
        fn spec_of(&self, id: SymbolId) -> &SymbolSpec {
            self.0.get(id)
        }
    }

    #[test]
    fn spot_locks_and_unlocks() {
        let mut spot = SpotAccount::default();
        spot.credit("USDT", dec!(100));
        assert!(!spot.lock("USDT", dec!(101)));
        assert!(spot.lock("USDT", dec!(60)));
        assert_eq!(spot.balance("USDT"), SpotBalance { free: dec!(40), locked: dec!(60) });
        spot.unlock("USDT", dec!(10));
        spot.debit_locked("USDT", dec!(50));
        assert_eq!(spot.balance("USDT"), SpotBalance { free: dec!(50), locked: dec!(0) });
    }

    #[test]
    fn margin_and_liquidation_of_an_isolated_long() {
        let catalog = Catalog::builtin().unwrap();
        let btc = catalog.find(Venue::Futures, "BTCUSDT").unwrap().id;
        let marks = Fixed(catalog, dec!(100000));
        let mut account = FuturesAccount { wallet: dec!(10000), ..FuturesAccount::default() };
        account.configs.insert(btc, SymbolConfig { leverage: 10, margin_type: MarginType::Isolated });
        account.positions.insert(
            btc,
            Position {
                amount: dec!(0.1),
                entry: dec!(100000),
                isolated_wallet: dec!(1000),
                ..Position::default()
            },
        );
        assert_eq!(account.cross_wallet(), dec!(9000));
        assert_eq!(account.position_im(btc, &marks), dec!(1000));
        assert_eq!(
            account.available(&marks, Decimal::ZERO),
            dec!(9000),
            "isolated IM is not in the cross sum"
        );
        let lp = account.liquidation_price(btc, &marks).unwrap();
        // (1000 - 0.1 * 100000) / (0.1 * 0.004 - 0.1) = 90361.44...
        assert_eq!(lp.round_dp(2), dec!(90361.45));
    }
}
