//! exchange-core: the venue-neutral trading model (`model`), market-data loading (`marketdata`)
//! and request signing for the venues (`signing`); with the `net` feature, the venue traits
//! (`venue`), the Binance clients (`binance`) and the paper broker (`paper`). Everything above it
//! speaks these types.

#[cfg(feature = "net")]
pub mod binance;
pub mod calendar;
pub mod marketdata;
pub mod model;
#[cfg(feature = "net")]
pub mod paper;
pub mod signing;
#[cfg(feature = "net")]
pub mod venue;

pub use model::*;
