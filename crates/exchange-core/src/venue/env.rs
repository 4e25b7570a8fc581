//! Where each venue lives: [`Environment`] (`sim`, `binance-demo`, `binance-testnet`,
//! `binance`), [`Product`] (spot, USD-M) and the base URLs of each pair ([`Endpoints`]), all
//! overridable.
//!
//! Venue facts (PROTOCOL.md §2):
//! - Spot: live REST `https://api.binance.com`, streams `wss://stream.binance.com:9443`, WS API
//!   `wss://ws-api.binance.com:443/ws-api/v3`; testnet `https://testnet.binance.vision`,
//!   `wss://stream.testnet.binance.vision`, `wss://ws-api.testnet.binance.vision/ws-api/v3`;
//!   demo `https://demo-api.binance.com`, `wss://demo-stream.binance.com:9443`,
//!   `wss://demo-ws-api.binance.com/ws-api/v3`.
//! - USD-M: live REST `https://fapi.binance.com`, streams `wss://fstream.binance.com`; Demo
//!   Trading (the current futures test environment) `https://demo-fapi.binance.com` with
//!   `wss://demo-fstream.binance.com`; legacy testnet `https://testnet.binancefuture.com` with
//!   `wss://fstream.binancefuture.com`.
//! - USD-M streams are routed since 2026-04-23: market data under `/market`, user data under
//!   `/private` (`/private/ws/<listenKey>`). Unrouted connections only get `/public` data. Whether
//!   the demo and testnet hosts require the routes is unverified, so the route is configurable.
//! - `sim` is exchange-sim on loopback: `http://127.0.0.1:PORT` and `ws://127.0.0.1:PORT`, which
//!   accepts both routed and legacy paths.

use std::fmt;
use std::str::FromStr;

/// Which deployment of a venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// exchange-sim on loopback (the default).
    Sim,
    /// Binance Demo Trading (the current futures test environment).
    BinanceDemo,
    /// The legacy Binance testnets.
    BinanceTestnet,
    /// Binance live: real money.
    Binance,
}

/// A text that names no environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown venue {0:?}: expected sim, binance-demo, binance-testnet or binance")]
pub struct UnknownEnvironment(pub String);

impl FromStr for Environment {
    type Err = UnknownEnvironment;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "sim" => Ok(Self::Sim),
            "binance-demo" => Ok(Self::BinanceDemo),
            "binance-testnet" => Ok(Self::BinanceTestnet),
            "binance" => Ok(Self::Binance),
            other => Err(UnknownEnvironment(other.to_owned())),
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sim => "sim",
            Self::BinanceDemo => "binance-demo",
            Self::BinanceTestnet => "binance-testnet",
            Self::Binance => "binance",
        })
    }
}

/// Which product of the venue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Product {
    /// Spot (`/api/v3`).
    Spot,
    /// USD-M perpetual futures (`/fapi`).
    UsdM,
}

/// How the USD-M user-data stream URL is formed from the stream root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStreamRoute {
    /// `<root>/private/ws/<listenKey>` (the routed path, mandatory on live since 2026-04-23).
    RoutedPath,
    /// `<root>/private/ws?listenKey=<listenKey>` (the routed query form).
    RoutedQuery,
    /// `<root>/ws/<listenKey>` (the legacy unrouted path; a fallback for hosts that still use it).
    Legacy,
}

/// Base URLs of one product on one environment. Every field can be overridden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// REST base, no trailing slash (`https://fapi.binance.com`).
    pub rest: String,
    /// WebSocket stream root, no trailing slash (`wss://fstream.binance.com`).
    pub ws_streams: String,
    /// Spot WebSocket API URL (user data for spot); unused for USD-M.
    pub ws_api: String,
    /// USD-M only: market streams under `/market` (true) or at the root (legacy).
    pub routed_market: bool,
    /// USD-M only: how the user-data URL is formed.
    pub user_route: UserStreamRoute,
}

impl Endpoints {
    /// The published endpoints of `product` on `environment`. For [`Environment::Sim`] the
    /// loopback simulator on `sim_port`.
    pub fn for_environment(environment: Environment, product: Product, sim_port: u16) -> Self {
        let (rest, ws_streams, ws_api) = match (environment, product) {
            (Environment::Sim, _) => {
                let host = format!("127.0.0.1:{sim_port}");
                (format!("http://{host}"), format!("ws://{host}"), format!("ws://{host}/ws-api/v3"))
            }
            (Environment::Binance, Product::Spot) => (
                "https://api.binance.com".into(),
                "wss://stream.binance.com:9443".into(),
                "wss://ws-api.binance.com:443/ws-api/v3".into(),
            ),
            (Environment::BinanceTestnet, Product::Spot) => (
                "https://testnet.binance.vision".into(),
                "wss://stream.testnet.binance.vision".into(),
                "wss://ws-api.testnet.binance.vision/ws-api/v3".into(),
            ),
            (Environment::BinanceDemo, Product::Spot) => (
                "https://demo-api.binance.com".into(),
                "wss://demo-stream.binance.com:9443".into(),
                "wss://demo-ws-api.binance.com/ws-api/v3".into(),
            ),
            (Environment::Binance, Product::UsdM) => {
                ("https://fapi.binance.com".into(), "wss://fstream.binance.com".into(), String::new())
            }
            (Environment::BinanceDemo, Product::UsdM) => (
                "https://demo-fapi.binance.com".into(),
                "wss://demo-fstream.binance.com".into(),
                String::new(),
            ),
            (Environment::BinanceTestnet, Product::UsdM) => (
                "https://testnet.binancefuture.com".into(),
                "wss://fstream.binancefuture.com".into(),
                String::new(),
            ),
        };
        Self { rest, ws_streams, ws_api, routed_market: true, user_route: UserStreamRoute::RoutedPath }
    }

    /// The simulator at explicit base URLs (`http://127.0.0.1:PORT`, `ws://127.0.0.1:PORT`).
    pub fn sim(rest: &str, ws: &str) -> Self {
        let ws = ws.trim_end_matches('/');
        Self {
            rest: rest.trim_end_matches('/').to_owned(),
            ws_streams: ws.to_owned(),
            ws_api: format!("{ws}/ws-api/v3"),
            routed_market: true,
            user_route: UserStreamRoute::RoutedPath,
        }
    }

    /// The combined-stream URL for `streams` (`.../stream?streams=a/b`), routed under `/market`
    /// when `product` is USD-M and [`Endpoints::routed_market`] is set.
    pub fn market_stream_url(&self, product: Product, streams: &[String]) -> String {
        let route = if product == Product::UsdM && self.routed_market { "/market" } else { "" };
        format!("{}{route}/stream?streams={}", self.ws_streams, streams.join("/"))
    }

    /// The USD-M user-data URL for `listen_key`, per [`Endpoints::user_route`].
    pub fn user_stream_url(&self, listen_key: &str) -> String {
        match self.user_route {
            UserStreamRoute::RoutedPath => format!("{}/private/ws/{listen_key}", self.ws_streams),
            UserStreamRoute::RoutedQuery => format!("{}/private/ws?listenKey={listen_key}", self.ws_streams),
            UserStreamRoute::Legacy => format!("{}/ws/{listen_key}", self.ws_streams),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environments_parse_and_print() {
        for name in ["sim", "binance-demo", "binance-testnet", "binance"] {
            assert_eq!(name.parse::<Environment>().map(|e| e.to_string()), Ok(name.to_owned()));
        }
        assert!("bybit".parse::<Environment>().is_err());
    }

    #[test]
    fn published_urls() {
        let demo = Endpoints::for_environment(Environment::BinanceDemo, Product::UsdM, 0);
        assert_eq!(demo.rest, "https://demo-fapi.binance.com");
        let live = Endpoints::for_environment(Environment::Binance, Product::UsdM, 0);
        let streams = ["btcusdt@kline_1h".to_owned(), "btcusdt@markPrice".to_owned()];
        assert_eq!(
            live.market_stream_url(Product::UsdM, &streams),
            "wss://fstream.binance.com/market/stream?streams=btcusdt@kline_1h/btcusdt@markPrice"
        );
        assert_eq!(live.user_stream_url("KEY"), "wss://fstream.binance.com/private/ws/KEY");
        let legacy = Endpoints { user_route: UserStreamRoute::Legacy, routed_market: false, ..live };
        assert_eq!(legacy.user_stream_url("KEY"), "wss://fstream.binance.com/ws/KEY");
        assert_eq!(
            legacy.market_stream_url(Product::UsdM, &streams[..1]),
            "wss://fstream.binance.com/stream?streams=btcusdt@kline_1h"
        );
        let spot = Endpoints::for_environment(Environment::Binance, Product::Spot, 0);
        assert_eq!(
            spot.market_stream_url(Product::Spot, &streams[..1]),
            "wss://stream.binance.com:9443/stream?streams=btcusdt@kline_1h"
        );
        let sim = Endpoints::for_environment(Environment::Sim, Product::Spot, 8080);
        assert_eq!(
            (sim.rest.as_str(), sim.ws_api.as_str()),
            ("http://127.0.0.1:8080", "ws://127.0.0.1:8080/ws-api/v3")
        );
        assert_eq!(Endpoints::sim("http://127.0.0.1:9/", "ws://127.0.0.1:9/").rest, "http://127.0.0.1:9");
    }
}
