//! The DESIGN §14 locator for the real market data shared beside the repository: tests and
//! benchmarks of every crate find `../shared/data` through [`shared_data_dir`], skip loudly when it
//! is absent, and fail instead when CI says the data must be there.

use std::env;
use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Environment variable naming the shared data folder; overrides the default location.
pub const DATA_DIR_ENV: &str = "DUAL_AGENT_DATA_DIR";

/// Environment variable that, set to `1`, turns absent shared data into a failure (`.ci/run`).
pub const REQUIRE_DATA_ENV: &str = "REQUIRE_SHARED_DATA";

/// Finds the shared market-data folder (`spot-1h/`, `futures-1h/`, `golden/`).
///
/// Looks at `$DUAL_AGENT_DATA_DIR` when it is set and not empty (a relative path is taken from
/// the current directory), else at `<workspace root>/../shared/data`. Returns `Ok(Some(dir))` when
/// that is a directory. When it is not, writes `SKIPPED: shared data not found at ...` straight to
/// the process's stderr (past the test harness's capture, so it shows in `cargo test` output) and
/// returns `Ok(None)`, for the caller to skip; unless `REQUIRE_SHARED_DATA=1`, in which case it
/// returns `Err` with the same explanation, for the caller to fail.
pub fn shared_data_dir() -> Result<Option<PathBuf>, String> {
    let require = env::var_os(REQUIRE_DATA_ENV).is_some_and(|value| value == "1");
    match locate(env::var_os(DATA_DIR_ENV), &default_dir()) {
        Ok(dir) => Ok(Some(dir)),
        Err(why) if require => {
            Err(format!("{REQUIRE_DATA_ENV}=1 but {why}; set {DATA_DIR_ENV} to the folder"))
        }
        Err(why) => {
            // Written with `io::stderr()` rather than `eprintln!`, which the test harness captures.
            let _ = writeln!(
                io::stderr(),
                "\n*** SKIPPED: {why}; set {DATA_DIR_ENV} to the folder, or {REQUIRE_DATA_ENV}=1 to make \
                 this a failure ***\n"
            );
            Ok(None)
        }
    }
}

/// `<workspace root>/../shared/data`, from where this crate sits (`<root>/crates/exchange-core`).
fn default_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    match crate_dir.ancestors().nth(3) {
        Some(beside_root) => beside_root.join("shared").join("data"),
        None => crate_dir.join("../../../shared/data"),
    }
}

/// The folder to use: `from_env` when set and not empty, else `default`; `Err` explains where it
/// looked when that is not a directory.
fn locate(from_env: Option<OsString>, default: &Path) -> Result<PathBuf, String> {
    let (dir, source) = match from_env.filter(|value| !value.is_empty()) {
        Some(value) => (PathBuf::from(value), format!("from {DATA_DIR_ENV}")),
        None => (default.to_path_buf(), format!("the default, {DATA_DIR_ENV} being unset")),
    };
    if dir.is_dir() { Ok(dir) } else { Err(format!("shared data not found at {} ({source})", dir.display())) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_shared_data_beside_the_workspace() {
        let dir = default_dir();
        assert!(dir.ends_with("shared/data"), "{}", dir.display());
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().and_then(Path::parent).unwrap();
        assert_eq!(dir.parent().and_then(Path::parent), root.parent());
    }

    #[test]
    fn the_environment_wins_over_the_default() {
        let existing = env::temp_dir();
        let missing = existing.join("exchange-core-no-such-dir");
        assert_eq!(locate(Some(existing.clone().into()), &missing), Ok(existing.clone()));
        assert_eq!(locate(None, &existing), Ok(existing.clone()));
        assert_eq!(locate(Some(OsString::new()), &existing), Ok(existing));
    }

    #[test]
    fn absence_explains_where_it_looked() {
        let missing = env::temp_dir().join("exchange-core-no-such-dir");
        let why = locate(Some(missing.clone().into()), Path::new("/")).unwrap_err();
        assert!(why.starts_with(&format!("shared data not found at {}", missing.display())), "{why}");
        assert!(why.contains("from DUAL_AGENT_DATA_DIR"), "{why}");
        let why = locate(None, &missing).unwrap_err();
        assert!(why.contains("DUAL_AGENT_DATA_DIR being unset"), "{why}");
    }
}
