//! Building responses: JSON bodies with Binance's headers (`Content-Type`, `X-MBX-USED-WEIGHT-1M`,
//! the order counters, `Retry-After`).

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER};
use hyper::{Response, StatusCode};

use crate::api_error::ApiError;

/// The body type of every response.
pub type Body = Full<Bytes>;

/// A JSON response with `status` and `headers`.
pub fn json(status: u16, body: String, headers: &[(&'static str, String)]) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let map = response.headers_mut();
    map.insert(CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            map.insert(HeaderName::from_static(name), value);
        }
    }
    response
}

/// The error answer for `err`, with its `Retry-After` if any.
pub fn error(err: &ApiError, headers: &[(&'static str, String)]) -> Response<Body> {
    let mut response = json(err.status, err.body(), headers);
    if let Some(seconds) = err.retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(RETRY_AFTER, value);
    }
    response
}
