//! Binance's JSON shapes: every REST answer and stream event the simulator sends, rendered from
//! the engine's records. Decimals go out as strings (spot with 8 decimals, USD-M with the symbol's
//! price and quantity precision, balances with 8), times as integer milliseconds (PROTOCOL.md §11.10:
//! clients must tolerate extra fields, so these carry the fields real clients read).
//!
//! | file       | owns                                                            |
//! |------------|-----------------------------------------------------------------|
//! | `orders`   | spot and USD-M orders, algo orders, trades                      |
//! | `accounts` | spot account, USD-M account, balance, positionRisk, income      |
//! | `market`   | exchangeInfo, klines, tickers, premiumIndex, funding, brackets  |
//! | `events`   | user-data events (executionReport, ORDER_TRADE_UPDATE, ...)     |
//! | `streams`  | market stream payloads (kline, markPriceUpdate, trades, books)  |

pub mod accounts;
pub mod events;
pub mod market;
pub mod orders;
pub mod streams;

use rust_decimal::Decimal;

use crate::catalog::{SymbolSpec, Venue};

/// `value` with exactly `decimals` decimals.
pub fn fixed(value: Decimal, decimals: u32) -> String {
    let mut rounded = value.round_dp(decimals);
    rounded.rescale(decimals);
    rounded.to_string()
}

/// A balance or money amount: 8 decimals.
pub fn money(value: Decimal) -> String {
    fixed(value, 8)
}

/// A price of `spec` as its venue prints it.
pub fn price(spec: &SymbolSpec, value: Decimal) -> String {
    match spec.venue {
        Venue::Spot => fixed(value, 8),
        Venue::Futures => fixed(value, spec.price_precision.max(spec.tick.scale())),
    }
}

/// A quantity of `spec` as its venue prints it.
pub fn qty(spec: &SymbolSpec, value: Decimal) -> String {
    match spec.venue {
        Venue::Spot => fixed(value, 8),
        Venue::Futures => fixed(value, spec.qty_precision),
    }
}

/// A computed value (average price, PnL) without trailing zeros, at most 8 decimals.
pub fn plain(value: Decimal) -> String {
    let v = value.round_dp(8).normalize();
    if v.is_zero() { "0".to_owned() } else { v.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use rust_decimal_macros::dec;

    #[test]
    fn formats_like_binance() {
        let catalog = Catalog::builtin().unwrap();
        let spot = catalog.find(Venue::Spot, "BTCUSDT").unwrap();
        let sol = catalog.find(Venue::Futures, "SOLUSDT").unwrap();
        let btc = catalog.find(Venue::Futures, "BTCUSDT").unwrap();
        assert_eq!(price(spot, dec!(90000.1)), "90000.10000000");
        assert_eq!(qty(spot, dec!(0.001)), "0.00100000");
        assert_eq!(price(sol, dec!(140.12)), "140.1200");
        assert_eq!(qty(sol, dec!(3)), "3");
        assert_eq!(price(btc, dec!(90000.1)), "90000.10");
        assert_eq!(qty(btc, dec!(0.010)), "0.010");
        assert_eq!(money(dec!(10000)), "10000.00000000");
        assert_eq!(plain(dec!(97000.000)), "97000");
        assert_eq!(plain(dec!(0)), "0");
    }
}
