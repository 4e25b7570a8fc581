//! Binance spot: the raw REST client ([`BinanceSpotRest`]), order encoding
//! ([`encode_spot_order`]) and the adapter implementing the venue traits ([`BinanceSpot`]).

mod adapter;
mod orders;
mod rest;

pub use adapter::{BinanceSpot, BinanceSpotConfig};
pub use orders::encode_spot_order;
pub use rest::BinanceSpotRest;
