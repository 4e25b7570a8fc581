//! Order round trip on loopback: signed `POST /fapi/v1/order` (a resting LIMIT) then
//! `DELETE /fapi/v1/order`, over keep-alive HTTP/1.1 connections.
//!
//! The simulator runs in-process on a current-thread runtime in its own thread (one core); the
//! client runs on a second thread. Two measurements, each repeated `RUNS` times, median reported:
//! - latency: one connection, sequential place + cancel; p50 / p99 of each request's round trip
//!   (the request is signed before the clock starts);
//! - throughput: `CONNECTIONS` connections in parallel placing and cancelling for `SECONDS`;
//!   orders placed per second (every order is also cancelled, so requests/s is twice that).
//!
//! Run: `cargo bench -p exchange-sim --bench order_roundtrip` (add `-- --quick` for one short run).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use exchange_core::signing::Secret;
use exchange_core::signing::binance::QueryString;
use exchange_sim::config::LimitConfig;
use exchange_sim::{DEMO_API_KEY, DEMO_API_SECRET, SimConfig};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio_util::sync::CancellationToken;

const CONNECTIONS: usize = 8;

fn now_ms() -> u64 {
    u64::try_from(SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis()).unwrap()
}

struct Client {
    sender: SendRequest<Full<Bytes>>,
    secret: Secret,
    host: String,
}

impl Client {
    async fn connect(addr: std::net::SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        Self { sender, secret: Secret::new(DEMO_API_SECRET.to_owned()), host: addr.to_string() }
    }

    fn signed(&self, method: &str, params: &[(&str, &str)]) -> Request<Full<Bytes>> {
        let mut query = QueryString::new();
        for (k, v) in params {
            query.push(k, v);
        }
        query.push("timestamp", &now_ms().to_string());
        let uri = format!("/fapi/v1/order?{}", query.finish_signed(&self.secret));
        Request::builder()
            .method(method)
            .uri(uri)
            .header("host", &self.host)
            .header("X-MBX-APIKEY", DEMO_API_KEY)
            .body(Full::new(Bytes::new()))
            .unwrap()
    }

    /// Sends and reads the whole answer; returns the body.
    async fn send(&mut self, request: Request<Full<Bytes>>) -> Bytes {
        self.sender.ready().await.unwrap();
        let response = self.sender.send_request(request).await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.into_body().collect().await.unwrap().to_bytes()
    }

    /// Places a resting limit order and cancels it; returns the two round-trip times.
    async fn place_and_cancel(&mut self, n: u64) -> (Duration, Duration) {
        let client_id = format!("bench{n}");
        let place = self.signed(
            "POST",
            &[
                ("symbol", "BTCUSDT"),
                ("side", "BUY"),
                ("type", "LIMIT"),
                ("timeInForce", "GTC"),
                ("quantity", "0.002"),
                ("price", "80000"),
                ("newClientOrderId", &client_id),
            ],
        );
        let started = Instant::now();
        self.send(place).await;
        let placed = started.elapsed();
        let cancel = self.signed("DELETE", &[("symbol", "BTCUSDT"), ("origClientOrderId", &client_id)]);
        let started = Instant::now();
        self.send(cancel).await;
        (placed, started.elapsed())
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (runs, round_trips, seconds) = if quick { (1, 1_000, 1) } else { (5, 5_000, 3) };
    let config = SimConfig {
        port: 0,
        speed: 0.0,
        backfill_days: 0.0,
        limits: LimitConfig {
            futures_weight_per_minute: u64::MAX / 4,
            orders_per_10s: u64::MAX / 4,
            orders_per_minute: u64::MAX / 4,
            ..LimitConfig::default()
        },
        ..SimConfig::default()
    };
    let settings = config.validate().unwrap();
    let shutdown = CancellationToken::new();
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let server_token = shutdown.clone();
    let server = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let sim = exchange_sim::start(settings, None, server_token).await.unwrap();
            addr_tx.send(sim.addr()).unwrap();
            sim.wait().await.unwrap();
        });
    });
    let addr = addr_rx.recv().unwrap();
    let client = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (mut p50s, mut p99s, mut rates) = (Vec::new(), Vec::new(), Vec::new());
    client.block_on(async {
        let mut warm = Client::connect(addr).await;
        let price = warm.send(Request::builder().uri("/sim/price?symbol=BTCUSDT&price=90000").method("POST").header("host", &warm.host).body(Full::new(Bytes::new())).unwrap()).await;
        assert!(!price.is_empty());
        for n in 0..500 {
            warm.place_and_cancel(n).await;
        }
        for run in 0..runs {
            let mut one = Client::connect(addr).await;
            let mut times = Vec::with_capacity(round_trips * 2);
            for n in 0..round_trips as u64 {
                let (a, b) = one.place_and_cancel(1_000_000 * (run + 1) + n).await;
                times.push(a);
                times.push(b);
            }
            times.sort();
            let (p50, p99) = (percentile(&times, 0.50), percentile(&times, 0.99));
            p50s.push(p50.as_secs_f64() * 1e6);
            p99s.push(p99.as_secs_f64() * 1e6);

            let placed = Arc::new(AtomicU64::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let mut tasks = Vec::new();
            for c in 0..CONNECTIONS {
                let (placed, stop) = (placed.clone(), stop.clone());
                tasks.push(tokio::spawn(async move {
                    let mut client = Client::connect(addr).await;
                    let mut n = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        client.place_and_cancel(100_000_000 * (run + 1) + 1_000_000 * c as u64 + n).await;
                        placed.fetch_add(1, Ordering::Relaxed);
                        n += 1;
                    }
                }));
            }
            let started = Instant::now();
            tokio::time::sleep(Duration::from_secs(seconds)).await;
            stop.store(true, Ordering::Relaxed);
            for task in tasks {
                task.await.unwrap();
            }
            let rate = placed.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
            rates.push(rate);
            println!(
                "run {}: round trip p50 {:.0} us, p99 {:.0} us; {} connections: {:.0} orders/s placed and cancelled ({:.0} requests/s)",
                run + 1,
                p50.as_secs_f64() * 1e6,
                p99.as_secs_f64() * 1e6,
                CONNECTIONS,
                rate,
                rate * 2.0
            );
        }
    });
    println!(
        "median of {runs}: p50 {:.0} us, p99 {:.0} us, {:.0} orders/s (server on one current-thread runtime)",
        median(&mut p50s),
        median(&mut p99s),
        median(&mut rates)
    );
    shutdown.cancel();
    server.join().unwrap();
}
