//! Binance wire models, as the venue sends them: field names as documented (renamed to Rust
//! case), unknown fields ignored, optional fields `Option`, decimals as `Decimal` parsed from
//! strings. These types stay inside `binance`; `parse` turns them into the venue-neutral model.
//!
//! | file     | owns                                                                          |
//! |----------|-------------------------------------------------------------------------------|
//! | `de`     | lenient field deserializers (decimal strings, int-or-string, ids)             |
//! | `common` | server time, error body, rate limits, filters, klines, ticker, listenKey      |
//! | `usdm`   | USD-M exchangeInfo, orders, algo orders, positions, balances, premium index   |
//! | `spot`   | spot exchangeInfo, orders, account                                            |
//! | `stream` | WebSocket events: kline, markPrice, ORDER_TRADE_UPDATE, ACCOUNT_UPDATE, ALGO_UPDATE, executionReport, ... |

mod common;
pub(crate) mod de;
mod spot;
mod stream;
mod usdm;

pub use common::*;
pub use spot::*;
pub use stream::*;
pub use usdm::*;
