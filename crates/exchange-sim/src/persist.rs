//! `--state FILE`: the engine's state as JSON, written atomically on shutdown (temp file in the
//! same folder, fsync, rename, fsync of the folder) and read at start only when the flag is given.
//! A missing file at start means a fresh exchange.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::engine::state::{STATE_VERSION, SavedState};
use crate::error::SimError;

fn state_error(path: &Path, problem: impl std::fmt::Display) -> SimError {
    SimError::State { path: path.to_owned(), problem: problem.to_string() }
}

/// Writes `state` to `path` atomically.
///
/// # Errors
/// When the temp file cannot be written or synced, or the rename fails.
pub fn save(path: &Path, state: &SavedState) -> Result<(), SimError> {
    let json = serde_json::to_vec(state).map_err(|e| state_error(path, e))?;
    let tmp = path.with_extension("tmp");
    let mut file = File::create(&tmp).map_err(|e| state_error(&tmp, e))?;
    file.write_all(&json).map_err(|e| state_error(&tmp, e))?;
    file.sync_all().map_err(|e| state_error(&tmp, e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|e| state_error(path, e))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename itself durable; a folder that cannot be opened is not fatal.
        if let Ok(dir) = File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// Reads the state at `path`; `None` when there is no such file.
///
/// # Errors
/// When the file exists but cannot be read or parsed, or has another format version.
pub fn load(path: &Path) -> Result<Option<SavedState>, SimError> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(state_error(path, e)),
    };
    let state: SavedState = serde_json::from_slice(&bytes).map_err(|e| state_error(path, e))?;
    if state.version != STATE_VERSION {
        return Err(state_error(path, format!("format version {} is not {STATE_VERSION}", state.version)));
    }
    Ok(Some(state))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Venue;
    use crate::engine::futures::FuturesOrderRequest;
    use crate::engine::testkit::{ACCOUNT, engine_at};
    use crate::engine::types::{OrderType, Tif};
    use exchange_core::Side;
    use rust_decimal_macros::dec;

    #[test]
    fn state_round_trips_through_a_file() {
        let (mut e, _, fut) = engine_at(dec!(100000));
        let request = FuturesOrderRequest {
            symbol: fut,
            side: Side::Buy,
            order_type: OrderType::Limit,
            tif: Some(Tif::Gtc),
            qty: Some(dec!(0.01)),
            price: Some(dec!(99000)),
            reduce_only: false,
            position_side: None,
            client_id: Some("keep-me".into()),
        };
        e.futures_place(ACCOUNT, request).unwrap();
        let dir = std::env::temp_dir().join(format!("exsim-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        save(&path, &e.saved_state()).unwrap();
        let loaded = load(&path).unwrap().unwrap();
        assert_eq!(loaded.accounts, e.saved_state().accounts);
        let order = loaded.book.open_orders(ACCOUNT, Venue::Futures).next().unwrap();
        assert_eq!(order.client_id, "keep-me");
        assert!(load(&dir.join("missing.json")).unwrap().is_none());
        fs::write(&path, b"{not json").unwrap();
        assert!(load(&path).is_err());
        fs::remove_dir_all(&dir).unwrap();
    }
}
