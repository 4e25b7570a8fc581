//! exchange-core: the venue-neutral trading model (`model`), market-data loading (`marketdata`)
//! and request signing for the venues (`signing`). Everything above it speaks these types.

#[cfg(feature = "net")]
pub mod binance;
pub mod calendar;
pub mod marketdata;
pub mod model;
pub mod signing;
#[cfg(feature = "net")]
pub mod venue;

pub use model::*;
