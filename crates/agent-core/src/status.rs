//! The status snapshot (DESIGN §6): `run/<agent>.status.json`, what the supervisor, the
//! dashboard and a person read to know how an agent is doing. Rewritten atomically (temp file,
//! fsync, rename, fsync of the directory) on every change and at least every 10 s, so a reader
//! never sees half a file. It holds no secrets.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use exchange_core::{PositionSide, Qty, Symbol};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Everything the snapshot says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusSnapshot {
    /// `main-agent` or `futures-agent`.
    pub agent: String,
    /// Process id.
    pub pid: u32,
    /// True once the agent has started trading (the supervisor waits for it).
    pub ready: bool,
    /// `live`, `paper` or `backtest`.
    pub mode: String,
    /// `sim`, `binance-demo`, `binance-testnet`, `binance`.
    pub venue: String,
    /// Wall-clock start time, ms.
    pub started_ms: i64,
    /// Event time of the last thing that happened (bar, order, fill), ms.
    pub last_activity_ms: i64,
    /// Wall balance plus unrealized P&L.
    #[serde(with = "rust_decimal::serde::str")]
    pub equity: Decimal,
    /// Equity at the start of the UTC day.
    #[serde(with = "rust_decimal::serde::str")]
    pub day_start_equity: Decimal,
    /// Today's P&L, realized plus unrealized.
    #[serde(with = "rust_decimal::serde::str")]
    pub daily_pnl: Decimal,
    /// Open positions.
    pub positions: Vec<PositionStatus>,
    /// Trades closed today.
    pub trades_today: u32,
    /// Share of today's closed trades that made money; `None` before the first.
    pub win_rate_today: Option<f64>,
    /// The daily loss breaker.
    pub breaker: BreakerStatus,
    /// The last error worth a person's attention.
    pub last_error: Option<String>,
    /// The market regime per asset and for the market (`market`), as classified at the latest
    /// close (main-agent; empty and left out for futures-agent and in older files).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regimes: BTreeMap<String, String>,
}

/// One open position as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionStatus {
    /// The instrument.
    pub symbol: Symbol,
    /// `long` or `short`.
    pub side: PositionSide,
    /// Size in base units.
    pub qty: Qty,
    /// Entry price.
    #[serde(with = "rust_decimal::serde::str")]
    pub entry: Decimal,
    /// Latest mark price.
    #[serde(with = "rust_decimal::serde::str")]
    pub mark: Decimal,
    /// Unrealized P&L at the mark.
    #[serde(with = "rust_decimal::serde::str")]
    pub unrealized_pnl: Decimal,
    /// Leverage (1 on spot).
    pub leverage: u32,
    /// Liquidation price, when there is one.
    #[serde(with = "rust_decimal::serde::str_option")]
    pub liquidation_price: Option<Decimal>,
    /// Client order ids of the resting protective orders (stop loss, take profit, trailing).
    pub stop_ids: Vec<String>,
}

/// The breaker as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerStatus {
    /// True while entries are halted.
    pub tripped: bool,
    /// UTC day (`YYYY-MM-DD`) it tripped on, if it did.
    pub tripped_on: Option<String>,
}

/// Writes `value` as pretty JSON to `path` atomically (see [`write_bytes_atomic`]).
///
/// # Errors
/// When any step fails; `path` then still holds its previous content.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    let mut json = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    json.push(b'\n');
    write_bytes_atomic(path, &json)
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory, synced, renamed over
/// `path`, then the directory synced.
///
/// # Errors
/// When any step fails; `path` then still holds its previous content.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp: PathBuf = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let result = (|| {
        let mut file = File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

impl StatusSnapshot {
    /// Writes the snapshot to `path` atomically.
    ///
    /// # Errors
    /// As [`write_json_atomic`].
    pub fn write(&self, path: &Path) -> io::Result<()> {
        write_json_atomic(path, self)
    }

    /// Reads a snapshot.
    ///
    /// # Errors
    /// When the file cannot be read or is not a snapshot.
    pub fn read(path: &Path) -> io::Result<Self> {
        let bytes = std::fs::read(path)?;
        serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn sample() -> StatusSnapshot {
        StatusSnapshot {
            agent: "futures-agent".into(),
            pid: 42,
            ready: true,
            mode: "paper".into(),
            venue: "sim".into(),
            started_ms: 1,
            last_activity_ms: 2,
            equity: dec!(10012.50),
            day_start_equity: dec!(10000),
            daily_pnl: dec!(12.50),
            positions: vec![PositionStatus {
                symbol: Symbol::new("BTCUSDT").unwrap(),
                side: PositionSide::Long,
                qty: Qty::new(dec!(0.010)),
                entry: dec!(60000),
                mark: dec!(61250),
                unrealized_pnl: dec!(12.50),
                leverage: 10,
                liquidation_price: Some(dec!(54271.35)),
                stop_ids: vec!["fa-sl-1-1".into()],
            }],
            trades_today: 0,
            win_rate_today: None,
            breaker: BreakerStatus { tripped: false, tripped_on: None },
            last_error: None,
            regimes: BTreeMap::new(),
        }
    }

    #[test]
    fn writes_atomically_and_reads_back() {
        let dir = std::env::temp_dir().join(format!("status-test-{}", std::process::id()));
        let path = dir.join("run").join("futures-agent.status.json");
        sample().write(&path).unwrap();
        let mut second = sample();
        second.daily_pnl = dec!(-3);
        second.write(&path).unwrap();
        assert_eq!(StatusSnapshot::read(&path).unwrap(), second);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "temp files left behind");
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\"daily_pnl\": \"-3\""), "{text}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn regimes_are_optional_and_left_out_when_empty() {
        let text = serde_json::to_string(&sample()).unwrap();
        assert!(!text.contains("regimes"), "{text}");
        let old: StatusSnapshot = serde_json::from_str(&text).unwrap();
        assert!(old.regimes.is_empty(), "a file without the field still reads");
        let mut main = sample();
        main.regimes.insert("BTCUSDT".into(), "trend_up".into());
        main.regimes.insert("market".into(), "trend_up".into());
        let text = serde_json::to_string(&main).unwrap();
        assert!(text.contains("\"regimes\":{\"BTCUSDT\":\"trend_up\",\"market\":\"trend_up\"}"), "{text}");
        assert_eq!(serde_json::from_str::<StatusSnapshot>(&text).unwrap(), main);
    }
}
