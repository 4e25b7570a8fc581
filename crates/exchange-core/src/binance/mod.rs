//! Binance clients, spot (`/api/v3`) and USD-M futures (`/fapi`), in the three layers of
//! STYLE.md:
//! 1. raw REST clients with one method per endpoint returning venue models
//!    ([`BinanceUsdmRest`], [`BinanceSpotRest`]) over a shared signed transport ([`http`]);
//! 2. pure `parse_*` functions from venue models to the venue-neutral model ([`parse`]);
//! 3. adapters implementing the venue traits ([`BinanceUsdm`], [`BinanceSpot`]), with the
//!    WebSocket side in [`ws`]: one task per socket behind a cloneable handle.
//!
//! Venue facts the code depends on are in each module's doc, with the PROTOCOL.md section.
//!
//! | module    | owns                                                                 |
//! |-----------|----------------------------------------------------------------------|
//! | `http`    | signing, clock offset, weight limits, error classification, retries  |
//! | `models`  | wire types (`Binance*`)                                              |
//! | `parse`   | wire types into `OrderUpdate`, `Fill`, `Position`, `Bar`, ...        |
//! | `usdm`    | USD-M raw client, order encoding (incl. algo orders), adapter        |
//! | `spot`    | spot raw client, order encoding, adapter                             |
//! | `resolve` | unknown-outcome resolution: query by client order id, never re-send  |
//! | `ws`      | market streams, USD-M listenKey stream, spot WS-API user stream      |

pub mod cache;
pub mod encode;
pub mod http;
pub mod models;
pub mod parse;
pub mod resolve;
pub mod spot;
pub mod usdm;
pub mod ws;

pub use cache::{MarketCache, RulesCache, SymbolRules};
pub use http::{BinanceHttp, HttpConfig};
pub use resolve::ResolvePolicy;
pub use spot::{BinanceSpot, BinanceSpotConfig, BinanceSpotRest};
pub use usdm::{BinanceUsdm, BinanceUsdmConfig, BinanceUsdmRest, WorkingType};
pub use ws::WsConfig;
