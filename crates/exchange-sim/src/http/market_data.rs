//! Public market-data endpoints of both products: exchangeInfo, klines, tickers, book tickers,
//! depth, avgPrice, premiumIndex, funding history. Klines: `limit` defaults to 500, at most 1000
//! on spot and 1500 on USD-M; the bar in progress is the last one returned.

use std::sync::Arc;

use serde_json::{Value, json};

use super::Shared;
use super::rest::Call;
use super::routes::Endpoint;
use crate::api_error::ApiError;
use crate::catalog::{SymbolId, Venue};
use crate::market::series::KlineQuery;
use crate::time::Interval;
use crate::wire::market as render;

fn symbols_param(call: &Call<'_>, shared: &Shared, venue: Venue) -> Result<Option<Vec<SymbolId>>, ApiError> {
    if let Some(spec) = call.params.symbol_opt(&shared.catalog, venue)? {
        return Ok(Some(vec![spec.id]));
    }
    let Some(list) = call.params.get("symbols") else { return Ok(None) };
    let names: Vec<String> = serde_json::from_str(list).map_err(|_| ApiError::invalid_param("symbols"))?;
    names
        .iter()
        .map(|n| shared.catalog.find(venue, n).map(|s| s.id).ok_or_else(ApiError::bad_symbol))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Serves a public endpoint.
///
/// # Errors
/// -1102, -1121, -1120, -1130 for bad parameters; 503 if the engine has stopped.
pub async fn handle(shared: &Arc<Shared>, call: &Call<'_>) -> Result<Value, ApiError> {
    let venue = call.route.venue;
    let params = call.params;
    match call.route.endpoint {
        Endpoint::ExchangeInfo => {
            let server_time = shared.wall_ms();
            Ok(match venue {
                Venue::Spot => {
                    let only = symbols_param(call, shared, venue)?.map(|ids| {
                        ids.into_iter()
                            .map(|id| shared.catalog.get(id).symbol.to_string())
                            .collect::<Vec<_>>()
                    });
                    render::spot_exchange_info(&shared.catalog, &shared.limits, server_time, only.as_deref())
                }
                Venue::Futures => render::futures_exchange_info(&shared.catalog, &shared.limits, server_time),
            })
        }
        Endpoint::Klines => {
            let id = params.symbol(&shared.catalog, venue)?.id;
            let interval =
                Interval::parse(params.required("interval")?).ok_or_else(ApiError::bad_interval)?;
            let max = if venue == Venue::Spot { 1000 } else { 1500 };
            let limit: usize = params.int("limit")?.unwrap_or(500);
            if limit == 0 || limit > max {
                return Err(ApiError::invalid_param("limit"));
            }
            let query =
                KlineQuery { interval, start: params.int("startTime")?, end: params.int("endTime")?, limit };
            shared
                .engine
                .call(move |ex| render::klines(ex.engine.market(), ex.engine.catalog().get(id), &query))
                .await
        }
        Endpoint::TickerPrice | Endpoint::Ticker24h | Endpoint::BookTicker => {
            let single = params.has("symbol");
            let ids = symbols_param(call, shared, venue)?
                .unwrap_or_else(|| shared.catalog.of_venue(venue).map(|s| s.id).collect());
            let endpoint = call.route.endpoint;
            shared
                .engine
                .call(move |ex| {
                    let (market, now) = (ex.engine.market(), ex.engine.now());
                    let rows: Vec<Value> = ids
                        .iter()
                        .map(|id| {
                            let spec = ex.engine.catalog().get(*id);
                            match endpoint {
                                Endpoint::TickerPrice => {
                                    render::ticker_price(market, spec, venue == Venue::Futures, now)
                                }
                                Endpoint::Ticker24h => render::ticker_24h(market, spec),
                                _ => render::book_ticker(market, spec, now),
                            }
                        })
                        .collect();
                    if single { rows.into_iter().next().unwrap_or(Value::Null) } else { Value::Array(rows) }
                })
                .await
        }
        Endpoint::Depth => {
            let id = params.symbol(&shared.catalog, venue)?.id;
            let limit: usize = params.int("limit")?.unwrap_or(100);
            if limit == 0 || limit > 5000 {
                return Err(ApiError::invalid_param("limit"));
            }
            shared
                .engine
                .call(move |ex| {
                    render::depth(
                        ex.engine.market(),
                        ex.engine.catalog().get(id),
                        limit.min(100),
                        ex.engine.now(),
                    )
                })
                .await
        }
        Endpoint::AvgPrice => {
            let id = params.symbol(&shared.catalog, venue)?.id;
            shared
                .engine
                .call(move |ex| {
                    let spec = ex.engine.catalog().get(id);
                    json!({"mins": 5, "price": crate::wire::price(spec, ex.engine.market().last(id)), "closeTime": ex.engine.now()})
                })
                .await
        }
        Endpoint::PremiumIndex => {
            let one = params.symbol_opt(&shared.catalog, venue)?.map(|s| s.id);
            shared
                .engine
                .call(move |ex| match one {
                    Some(id) => render::premium_index(&ex.engine, ex.engine.catalog().get(id)),
                    None => Value::Array(
                        ex.engine
                            .catalog()
                            .of_venue(Venue::Futures)
                            .map(|s| render::premium_index(&ex.engine, s))
                            .collect(),
                    ),
                })
                .await
        }
        Endpoint::FundingRate => {
            let one = params.symbol_opt(&shared.catalog, venue)?.map(|s| s.id);
            let (start, end): (Option<i64>, Option<i64>) = (params.int("startTime")?, params.int("endTime")?);
            let limit: usize = params.int("limit")?.unwrap_or(100).min(1000);
            shared
                .engine
                .call(move |ex| {
                    let rows: Vec<_> = ex
                        .engine
                        .book()
                        .funding_of(one)
                        .filter(|r| start.is_none_or(|s| r.time >= s) && end.is_none_or(|e| r.time <= e))
                        .collect();
                    let skip = if start.is_some() { 0 } else { rows.len().saturating_sub(limit) };
                    render::funding_rates(ex.engine.catalog(), rows.into_iter().skip(skip).take(limit))
                })
                .await
        }
        _ => Ok(json!([])),
    }
}
