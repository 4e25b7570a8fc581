//! The accept loop and per-connection tasks: HTTP/1.1 with keep-alive (hyper), upgrades allowed
//! for WebSockets. Each request goes to the WebSocket upgrade, the admin API (`/sim/...`) or the
//! REST pipeline. Bodies are read up to 1 MiB.

use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

use super::Shared;
use super::reply::{self, Body};
use super::rest::{self, Hung};
use crate::api_error::ApiError;

const MAX_BODY: usize = 1 << 20;

/// Accepts connections on `listener` until shutdown.
pub async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        tokio::select! {
            () = shared.shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let conn_shared = shared.clone();
                    shared.tracker.spawn(connection(stream, conn_shared));
                }
                Err(err) => {
                    tracing::warn!(%err, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    // Small request/response pairs: do not let Nagle hold them back.
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(stream);
    let service_shared = shared.clone();
    let service = service_fn(move |req| {
        let shared = service_shared.clone();
        async move { route(shared, req).await }
    });
    let conn = http1::Builder::new().keep_alive(true).serve_connection(io, service).with_upgrades();
    tokio::select! {
        result = conn => {
            if let Err(err) = result {
                tracing::debug!(%err, "connection ended with an error");
            }
        }
        () = shared.shutdown.cancelled() => {}
    }
}

/// Reads the whole body, at most 1 MiB.
async fn read_body(body: Incoming) -> Result<bytes::Bytes, ApiError> {
    Limited::new(body, MAX_BODY)
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .map_err(|_| ApiError::new(413, -1000, "Request body too large or unreadable."))
}

async fn route(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Body>, Hung> {
    if crate::ws::is_upgrade(&req) {
        return Ok(crate::ws::upgrade(shared, req).await);
    }
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().unwrap_or("").to_owned();
    let method = parts.method.as_str().to_owned();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(err) => return Ok(reply::error(&err, &[])),
    };
    if path == "/sim" || path.starts_with("/sim/") {
        return Ok(super::admin::handle(&shared, &method, &path, &query, &body).await);
    }
    rest::handle(&shared, &method, &path, &query, &parts.headers, body).await
}
