//! Binance USD-M futures: the raw REST client ([`BinanceUsdmRest`]), order encoding including
//! the algo (conditional) order API ([`encode_usdm_order`]) and the adapter implementing the
//! venue traits ([`BinanceUsdm`]).

mod adapter;
mod orders;
mod rest;

pub(crate) use adapter::keep_parsed;
pub use adapter::{BinanceUsdm, BinanceUsdmConfig};
pub use orders::{UsdmOrder, WorkingType, encode_usdm_order};
pub use rest::{BinanceUsdmRest, kline_weight};
