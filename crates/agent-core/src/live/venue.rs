//! Where an agent trades, resolved the same way for both agents (DESIGN §4, §9): the venue's
//! URLs, the API credentials (from the environment or the dotenv files only; for the simulator,
//! its config's demo account), and the real-money guard: `venue = "binance"` with `paper = false`
//! needs `DUAL_AGENT_LIVE=yes`, and refuses dotenv files readable by group or others.

use std::path::Path;

use exchange_core::signing::{ApiCredentials, Secret};
use exchange_core::venue::{Endpoints, Environment, Product};
use serde::Deserialize;

use crate::dotenv::Layers;

/// The simulator's port when its config does not say.
pub const SIM_DEFAULT_PORT: u16 = 8765;

/// What the config says about the venue.
#[derive(Debug, Clone)]
pub struct VenueRequest<'a> {
    /// `sim`, `binance-demo`, `binance-testnet` or `binance` (already validated by the config).
    pub venue: &'a str,
    /// Paper trading.
    pub paper: bool,
    /// Spot or USD-M.
    pub product: Product,
    /// exchange-sim's config (port, demo account).
    pub sim_config: &'a Path,
    /// REST base URL override.
    pub rest_url: Option<&'a str>,
    /// WebSocket market-stream base URL override.
    pub ws_url: Option<&'a str>,
    /// The dotenv files' names, for messages (`.env or futures_agent_config.env`).
    pub dotenv_names: &'a str,
}

/// The resolved venue.
#[derive(Debug, Clone)]
pub struct VenueSettings {
    /// The venue.
    pub environment: Environment,
    /// Its URLs.
    pub endpoints: Endpoints,
    /// API credentials (never logged: the secret's Debug is redacted).
    pub credentials: Option<ApiCredentials>,
    /// Things to log (loose dotenv permissions).
    pub warnings: Vec<String>,
}

impl VenueSettings {
    /// Resolves the venue; every problem is pushed to `problems` (the caller reports them all
    /// with the config's other problems).
    pub fn resolve(request: &VenueRequest<'_>, layers: &Layers, problems: &mut Vec<String>) -> Self {
        let environment = request.venue.parse::<Environment>().unwrap_or(Environment::Sim);
        let live_money = environment == Environment::Binance && !request.paper;
        let mut warnings = Vec::new();
        for loose in layers.loose_files() {
            let text = format!(
                "{} is readable by group or others (chmod 600 it): it may hold secrets",
                loose.display()
            );
            if live_money { problems.push(text) } else { warnings.push(text) }
        }
        if live_money && layers.get("DUAL_AGENT_LIVE").map(|(v, _)| v) != Some("yes") {
            problems.push(
                "venue = \"binance\" with paper = false trades real money: set DUAL_AGENT_LIVE=yes in the environment to confirm (or use paper = true, or venue = \"binance-demo\")".to_owned(),
            );
        }
        let (mut endpoints, credentials) = match environment {
            Environment::Sim => match read_sim(request.sim_config) {
                Ok((port, creds)) => {
                    (Endpoints::for_environment(Environment::Sim, request.product, port), creds)
                }
                Err(problem) => {
                    problems.push(problem);
                    (Endpoints::for_environment(Environment::Sim, request.product, SIM_DEFAULT_PORT), None)
                }
            },
            other => {
                let key = layers.get("BINANCE_API_KEY").map(|(v, _)| v.to_owned());
                let secret = layers.get("BINANCE_API_SECRET").map(|(v, _)| v.to_owned());
                let creds = match (key, secret) {
                    (Some(k), Some(s)) => Some(ApiCredentials::new(k, Secret::new(s))),
                    (k, s) if !request.paper => {
                        let missing: Vec<&str> =
                            [("BINANCE_API_KEY", k.is_none()), ("BINANCE_API_SECRET", s.is_none())]
                                .into_iter()
                                .filter_map(|(name, gone)| gone.then_some(name))
                                .collect();
                        problems.push(format!(
                            "venue {other} needs {} in the environment, {}",
                            missing.join(" and "),
                            request.dotenv_names
                        ));
                        None
                    }
                    _ => None,
                };
                (Endpoints::for_environment(other, request.product, 0), creds)
            }
        };
        if let Some(rest) = request.rest_url {
            endpoints.rest = rest.trim_end_matches('/').to_owned();
        }
        if let Some(ws) = request.ws_url {
            endpoints.ws_streams = ws.trim_end_matches('/').to_owned();
        }
        Self { environment, endpoints, credentials, warnings }
    }
}

#[derive(Debug, Deserialize)]
struct SimFile {
    #[serde(default = "sim_default_port")]
    port: u16,
    #[serde(default)]
    accounts: Vec<SimAccount>,
}

fn sim_default_port() -> u16 {
    SIM_DEFAULT_PORT
}

#[derive(Debug, Deserialize)]
struct SimAccount {
    api_key: String,
    api_secret: String,
}

/// The simulator's port and demo credentials from its config file.
fn read_sim(path: &Path) -> Result<(u16, Option<ApiCredentials>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "sim_config: cannot read {} ({e}); venue \"sim\" needs it for the port and demo key",
            path.display()
        )
    })?;
    let file: SimFile =
        toml::from_str(&text).map_err(|e| format!("sim_config {}: {}", path.display(), e.message()))?;
    let creds =
        file.accounts.into_iter().next().map(|a| ApiCredentials::new(a.api_key, Secret::new(a.api_secret)));
    if creds.is_none() {
        return Err(format!("sim_config {}: no [[accounts]] entry to trade with", path.display()));
    }
    Ok((file.port, creds))
}

/// `1/0`, `true/false`, `yes/no`, `on/off` (any case).
pub fn truthy(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}
