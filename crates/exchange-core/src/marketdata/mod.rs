//! Market-data loading: kline files into a checked `KlineSeries` of `Bar`s (with its interval and
//! its gaps), funding files into a `FundingSeries`, and the locator for the shared test data.
//!
//! Formats (DESIGN §12):
//! - klines, six columns `open_time_ms,open,high,low,close,volume` behind a header (the first
//!   column may be named `open_time`; a file without the header is read too), as in
//!   `../shared/data/*-1h/*.csv`;
//! - klines, Binance's public dump layout (data.binance.vision): 12 columns, `open_time,open,high,
//!   low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,
//!   ignore`, no header in spot dumps, a header in futures dumps; open and close times in
//!   ms, or in us in spot dumps from 2025-01-01 on (told apart per file by magnitude);
//! - funding, `funding_time_ms,funding_rate` behind a header.
//!
//! Every file is read whole with one `fs::read` and parsed from memory; prices are read exactly
//! into `Decimal` by a parser of our own (see `number`), which is what makes a 73k-row file load
//! in a few milliseconds. Loading is strict: a malformed line, an unsorted or repeated time, or
//! a truncated file is an error naming the file and the 1-based line, never skipped.
//!
//! | file          | owns                                                        |
//! |---------------|-------------------------------------------------------------|
//! | `klines`      | `KlineSeries`, `Gap`, `load_klines`, order, interval, gaps  |
//! | `kline_row`   | layout and header recognition, one row into a `Bar`         |
//! | `funding`     | `FundingSeries`, `FundingRate`, `load_funding`              |
//! | `csv`         | reading a file, numbered lines, fields, named-column values |
//! | `number`      | the exact decimal and integer parsers                       |
//! | `error`       | `MarketDataError`                                           |
//! | `testdata`    | `shared_data_dir`, the DESIGN §14 data locator              |

mod csv;
mod error;
mod funding;
mod kline_row;
mod klines;
mod number;
mod testdata;

pub use error::MarketDataError;
pub use funding::{FundingRate, FundingSeries, load_funding, parse_funding};
pub use klines::{Gap, KlineSeries, load_klines, parse_klines};
pub use testdata::{DATA_DIR_ENV, REQUIRE_DATA_ENV, shared_data_dir};
