//! `config/supervisor.toml`: where the agents' configs and the binaries are, the supervisor's own
//! directories, how long a stop may take, how `run` restarts what dies. Unknown keys are refused;
//! `validate()` reports every bad value at once, each with the file and the key (exit code 2).
//! Durations are in seconds (integers or decimals). Relative paths are relative to the
//! repository root.

use std::path::{Path, PathBuf};
use std::time::Duration;

use agent_core::config::{ConfigError, read_toml};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupervisorConfig {
    /// Folder of the binaries (absent: the supervisor's own folder, e.g. `target/release`).
    #[serde(default)]
    pub bin_dir: Option<PathBuf>,
    /// Folder of exchange-sim's log (`exchange_sim.log`).
    #[serde(default = "default_log_dir")]
    pub log_dir: PathBuf,
    /// Folder of exchange-sim's PID file and the start locks.
    #[serde(default = "default_run_dir")]
    pub run_dir: PathBuf,
    /// Seconds between SIGTERM and SIGKILL of the process group.
    #[serde(default = "default_stop_grace")]
    pub stop_grace: f64,
    /// Seconds a process has to become ready after it is spawned.
    #[serde(default = "default_start_timeout")]
    pub start_timeout: f64,
    /// `run`: seconds between liveness checks.
    #[serde(default = "default_check_interval")]
    pub check_interval: f64,
    /// `run`: seconds before the first restart of a dead process; doubled on each quick death.
    #[serde(default = "default_restart_backoff")]
    pub restart_backoff: f64,
    /// `run`: the longest wait before a restart, in seconds.
    #[serde(default = "default_restart_backoff_max")]
    pub restart_backoff_max: f64,
    /// `run`: a process that dies within this many seconds of its start died quickly.
    #[serde(default = "default_quick_death")]
    pub quick_death: f64,
    /// `run`: give up on a process after this many quick deaths in a row.
    #[serde(default = "default_max_quick_deaths")]
    pub max_quick_deaths: u32,
    /// The agents' configs.
    #[serde(default)]
    pub agents: AgentsTable,
    /// exchange-sim.
    #[serde(default)]
    pub sim: SimTable,
}

/// `[agents.main]` and `[agents.futures]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentsTable {
    /// main-agent.
    #[serde(default = "default_main")]
    pub main: AgentEntry,
    /// futures-agent.
    #[serde(default = "default_futures")]
    pub futures: AgentEntry,
}

/// One agent's entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentEntry {
    /// The agent's TOML config, passed to it as `run --config FILE`.
    pub config: PathBuf,
}

/// `[sim]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimTable {
    /// Extra command-line flags for exchange-sim; by default `--state run/exchange-sim.state.json`,
    /// so its accounts survive its restarts and still match the agents' journals.
    #[serde(default = "default_sim_args")]
    pub extra_args: Vec<String>,
}

fn default_sim_args() -> Vec<String> {
    vec!["--state".to_owned(), "run/exchange-sim.state.json".to_owned()]
}

impl Default for SimTable {
    fn default() -> Self {
        Self { extra_args: default_sim_args() }
    }
}

fn default_log_dir() -> PathBuf {
    PathBuf::from("logs")
}
fn default_run_dir() -> PathBuf {
    PathBuf::from("run")
}
fn default_stop_grace() -> f64 {
    20.0
}
fn default_start_timeout() -> f64 {
    60.0
}
fn default_check_interval() -> f64 {
    0.5
}
fn default_restart_backoff() -> f64 {
    1.0
}
fn default_restart_backoff_max() -> f64 {
    60.0
}
fn default_quick_death() -> f64 {
    30.0
}
fn default_max_quick_deaths() -> u32 {
    5
}
fn default_main() -> AgentEntry {
    AgentEntry { config: PathBuf::from("config/main_agent.toml") }
}
fn default_futures() -> AgentEntry {
    AgentEntry { config: PathBuf::from("config/futures_agent.toml") }
}

impl Default for AgentsTable {
    fn default() -> Self {
        Self { main: default_main(), futures: default_futures() }
    }
}

impl Default for SupervisorConfig {
    fn default() -> Self {
        Self {
            bin_dir: None,
            log_dir: default_log_dir(),
            run_dir: default_run_dir(),
            stop_grace: default_stop_grace(),
            start_timeout: default_start_timeout(),
            check_interval: default_check_interval(),
            restart_backoff: default_restart_backoff(),
            restart_backoff_max: default_restart_backoff_max(),
            quick_death: default_quick_death(),
            max_quick_deaths: default_max_quick_deaths(),
            agents: AgentsTable::default(),
            sim: SimTable::default(),
        }
    }
}

impl SupervisorConfig {
    /// Reads and validates `path`; a missing file gives the defaults when `required` is false.
    ///
    /// # Errors
    /// Unreadable or invalid TOML, an unknown key, a value of the wrong type (the first of
    /// these), or every out-of-range value at once.
    pub fn load(path: &Path, required: bool) -> Result<Self, ConfigError> {
        if !required && !path.exists() {
            return Ok(Self::default());
        }
        let config: Self = read_toml(path)?;
        config.validate(&path.display().to_string())?;
        Ok(config)
    }

    /// Checks every value; `source` names the file in the error.
    ///
    /// # Errors
    /// Every problem at once, each naming its key.
    pub fn validate(&self, source: &str) -> Result<(), ConfigError> {
        let mut problems = Vec::new();
        let mut range = |key: &str, value: f64, low: f64, high: f64| {
            if !(value.is_finite() && (low..=high).contains(&value)) {
                problems.push(format!("{key} = {value}: must be between {low} and {high} seconds"));
            }
        };
        range("stop_grace", self.stop_grace, 0.1, 3600.0);
        range("start_timeout", self.start_timeout, 0.1, 3600.0);
        range("check_interval", self.check_interval, 0.05, 60.0);
        range("restart_backoff", self.restart_backoff, 0.01, 3600.0);
        range("restart_backoff_max", self.restart_backoff_max, 0.01, 86_400.0);
        range("quick_death", self.quick_death, 0.0, 86_400.0);
        if self.restart_backoff_max < self.restart_backoff {
            problems.push(format!(
                "restart_backoff_max = {}: must not be below restart_backoff ({})",
                self.restart_backoff_max, self.restart_backoff
            ));
        }
        if self.max_quick_deaths == 0 {
            problems.push("max_quick_deaths = 0: must be at least 1".to_owned());
        }
        for (key, path) in [
            ("agents.main.config", &self.agents.main.config),
            ("agents.futures.config", &self.agents.futures.config),
        ] {
            if path.as_os_str().is_empty() {
                problems.push(format!("{key}: must name a file"));
            }
        }
        if problems.is_empty() { Ok(()) } else { Err(ConfigError { source: source.to_owned(), problems }) }
    }

    /// `stop_grace` as a duration.
    pub fn stop_grace(&self) -> Duration {
        secs(self.stop_grace)
    }

    /// `start_timeout` as a duration.
    pub fn start_timeout(&self) -> Duration {
        secs(self.start_timeout)
    }

    /// `check_interval` as a duration.
    pub fn check_interval(&self) -> Duration {
        secs(self.check_interval)
    }

    /// `quick_death` as a duration.
    pub fn quick_death(&self) -> Duration {
        secs(self.quick_death)
    }

    /// The wait before restarting after the `n`th quick death in a row (n >= 1): the backoff
    /// doubled `n - 1` times, at most `restart_backoff_max`.
    pub fn backoff(&self, n: u32) -> Duration {
        let factor = 2f64.powi(i32::try_from(n.saturating_sub(1).min(30)).unwrap_or(30));
        secs((self.restart_backoff * factor).min(self.restart_backoff_max))
    }
}

/// Seconds (validated finite and non-negative) as a duration.
fn secs(value: f64) -> Duration {
    Duration::try_from_secs_f64(value).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_core::config::parse_toml;

    #[test]
    fn defaults_fill_an_empty_file() {
        let c: SupervisorConfig = parse_toml("", Path::new("s.toml")).unwrap();
        c.validate("s.toml").unwrap();
        assert_eq!(c.stop_grace(), Duration::from_secs(20));
        assert_eq!(c.agents.futures.config, PathBuf::from("config/futures_agent.toml"));
    }

    #[test]
    fn integers_and_decimals_are_both_seconds() {
        let c: SupervisorConfig =
            parse_toml("stop_grace = 3\nstart_timeout = 2.5\n", Path::new("s")).unwrap();
        assert_eq!(c.stop_grace(), Duration::from_secs(3));
        assert_eq!(c.start_timeout(), Duration::from_millis(2500));
    }

    #[test]
    fn every_bad_value_is_listed_with_its_key() {
        let c: SupervisorConfig = parse_toml(
            "stop_grace = -1\ncheck_interval = 0\nrestart_backoff = 10\nrestart_backoff_max = 5\nmax_quick_deaths = 0\n",
            Path::new("s.toml"),
        )
        .unwrap();
        let err = c.validate("s.toml").unwrap_err();
        let text = err.to_string();
        assert_eq!(err.problems.len(), 4, "{text}");
        for key in ["stop_grace", "check_interval", "restart_backoff_max", "max_quick_deaths"] {
            assert!(text.contains(key), "{key} missing from {text}");
        }
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let err = parse_toml::<SupervisorConfig>("[agents.spot]\nconfig = \"x\"\n", Path::new("s.toml"))
            .unwrap_err();
        assert!(err.to_string().contains("spot"), "{err}");
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = SupervisorConfig { restart_backoff: 1.0, restart_backoff_max: 5.0, ..Default::default() };
        let waits: Vec<u64> = (1..=5).map(|n| c.backoff(n).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 5, 5]);
    }
}
