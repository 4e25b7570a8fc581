//! The venue-neutral interface the agents trade through: async traits for market data
//! ([`MarketData`]), order entry and account state ([`Execution`]) and the live streams
//! ([`UserDataFeed`], [`MarketFeed`]), the events they produce ([`VenueEvent`], [`MarketEvent`]),
//! the one error type of this boundary ([`VenueError`]) and where each venue lives
//! ([`Environment`], [`Endpoints`]).
//!
//! The traits are generic, not object-safe: methods return `impl Future + Send`, so a caller is
//! written against `impl Execution` (or a type parameter) and the compiler picks the venue.
//! Implementations: [`crate::binance::BinanceUsdm`] and [`crate::binance::BinanceSpot`].
//!
//! | file      | owns                                                                  |
//! |-----------|-----------------------------------------------------------------------|
//! | `traits`  | `MarketData`, `Execution`, `UserDataFeed`, `MarketFeed`, `OrderAck`   |
//! | `events`  | `VenueEvent`, `MarketEvent`, `AccountUpdate`, `KlineUpdate`, `MarkPrice` |
//! | `stream`  | `EventStream`, `StreamControl`: what a running stream hands back      |
//! | `interval`| `KlineInterval`                                                       |
//! | `env`     | `Environment`, `Product`, `Endpoints` (base URLs per venue)           |
//! | `error`   | `VenueError` and its classifiers                                      |

mod env;
mod error;
mod events;
mod interval;
pub(crate) mod stream;
mod traits;

pub use env::{Endpoints, Environment, Product, UnknownEnvironment, UserStreamRoute};
pub use error::{BoxError, VenueError};
pub use events::{AccountUpdate, GapReason, KlineUpdate, MarkPrice, MarketEvent, PositionUpdate, VenueEvent};
pub use interval::{KlineInterval, UnknownInterval};
pub use stream::{EventStream, MarketStreamHandle, StreamControl, UserStreamHandle};
pub use traits::{Execution, KlineQuery, MarketData, MarketFeed, OrderAck, UserDataFeed};

/// Installs aws-lc-rs as the process-wide rustls crypto provider. Binaries call this once at the
/// start of `main`, before any TLS connection: with two providers compiled in, rustls cannot pick
/// one and a `wss://` connection would panic. Calling it again is harmless (the "already
/// installed" result is ignored).
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
