//! Account state in venue-neutral terms: `Position` and `Balance`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::num::{Notional, Price, Qty};
use super::order::Side;
use super::symbol::Symbol;

/// Long or short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PositionSide {
    /// Profits when the price rises.
    Long,
    /// Profits when the price falls.
    Short,
}

impl PositionSide {
    /// +1 for long, -1 for short.
    pub fn sign(self) -> Decimal {
        match self {
            Self::Long => Decimal::ONE,
            Self::Short => Decimal::NEGATIVE_ONE,
        }
    }

    /// The order side that opens this position.
    pub fn entry_side(self) -> Side {
        match self {
            Self::Long => Side::Buy,
            Self::Short => Side::Sell,
        }
    }

    /// The order side that closes this position.
    pub fn exit_side(self) -> Side {
        self.entry_side().opposite()
    }
}

/// How a futures position's margin is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarginMode {
    /// Margin set aside per position; a liquidation loses only that margin.
    Isolated,
    /// The whole wallet backs every position.
    Cross,
}

/// An open position (one-way mode: at most one per symbol).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// The instrument.
    pub symbol: Symbol,
    /// Long or short.
    pub side: PositionSide,
    /// Size in base units, always positive.
    pub qty: Qty,
    /// Average entry price.
    pub entry_price: Price,
    /// Leverage (1 on spot).
    pub leverage: u32,
    /// Margin mode (isolated on spot, where it does not matter).
    pub margin_mode: MarginMode,
    /// Where the venue would liquidate it, when it can be liquidated.
    pub liquidation_price: Option<Price>,
}

impl Position {
    /// Entry value: `qty * entry_price`.
    pub fn entry_notional(&self) -> Notional {
        self.qty * self.entry_price
    }

    /// Profit or loss if closed at `mark`, before fees: `sign * qty * (mark - entry)`.
    pub fn unrealized_pnl(&self, mark: Price) -> Notional {
        Notional::new(self.side.sign() * self.qty.get() * (mark.get() - self.entry_price.get()))
    }

    /// Initial margin at entry: `qty * entry_price / leverage` (the whole entry value at 1x).
    pub fn initial_margin(&self) -> Notional {
        let leverage = Decimal::from(self.leverage.max(1));
        Notional::new(self.entry_notional().get() / leverage)
    }
}

/// The balance of one asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Balance {
    /// The asset (`USDT`, `BTC`).
    pub asset: String,
    /// Wallet balance: realized funds, before unrealized P&L.
    pub wallet: Notional,
    /// Available for new orders (spot `free`; futures `availableBalance`).
    pub free: Notional,
    /// Held by open orders or margin (spot `locked`).
    pub locked: Notional,
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn position(side: PositionSide) -> Position {
        Position {
            symbol: Symbol::new("BTCUSDT").unwrap(),
            side,
            qty: Qty::new(dec!(0.5)),
            entry_price: Price::new(dec!(40000)),
            leverage: 10,
            margin_mode: MarginMode::Isolated,
            liquidation_price: None,
        }
    }

    #[test]
    fn pnl_sign_follows_side() {
        let up = Price::new(dec!(41000.10));
        assert_eq!(position(PositionSide::Long).unrealized_pnl(up).get(), dec!(500.05));
        assert_eq!(position(PositionSide::Short).unrealized_pnl(up).get(), dec!(-500.05));
    }

    #[test]
    fn margin_is_entry_value_over_leverage() {
        assert_eq!(position(PositionSide::Long).initial_margin().get(), dec!(2000));
        assert_eq!(PositionSide::Short.exit_side(), Side::Buy);
    }
}
