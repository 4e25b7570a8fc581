//! The table of what the supervisor manages, resolved to paths: the agents (main-agent,
//! futures-agent) and exchange-sim, each with its binary, config, PID file, status file and log.
//!
//! Agents run with the repository root as their working directory, so the relative paths in
//! their configs (`log_dir`, `run_dir`, `sim_config`) are resolved against it here too. An
//! agent whose binary is absent is "not installed": shown as such by `status`, skipped by `all`,
//! refused by `start` with the path it looked for; one whose binary has no live `run` command
//! yet (it only backtests) is treated the same way, and said to be "backtest only". exchange-sim writes no PID file of its own;
//! the supervisor's holder keeps `run_dir/exchange-sim.pid` for it (see `spawn.rs`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::SupervisorError;
use crate::capability::has_run;
use crate::cli::{AgentName, Target};
use crate::config::SupervisorConfig;

/// One managed program.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Component {
    /// main-agent (low risk, spot).
    Main,
    /// futures-agent (high risk, USD-M perpetuals).
    Futures,
    /// exchange-sim (the loopback exchange).
    Sim,
}

impl Component {
    /// The program's name, also its binary's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Main => "main-agent",
            Self::Futures => "futures-agent",
            Self::Sim => "exchange-sim",
        }
    }

    /// The name of its log file.
    pub fn log_name(self) -> &'static str {
        match self {
            Self::Main => "main_agent.log",
            Self::Futures => "futures_agent.log",
            Self::Sim => "exchange_sim.log",
        }
    }
}

impl From<AgentName> for Component {
    fn from(name: AgentName) -> Self {
        match name {
            AgentName::Main => Self::Main,
            AgentName::Futures => Self::Futures,
        }
    }
}

/// The keys of an agent's config that the supervisor reads (the agent itself checks the rest).
#[derive(Debug, Deserialize)]
struct AgentFile {
    #[serde(default = "default_venue")]
    venue: String,
    #[serde(default = "default_log_dir")]
    log_dir: PathBuf,
    #[serde(default = "default_run_dir")]
    run_dir: PathBuf,
    #[serde(default = "default_sim_config")]
    sim_config: PathBuf,
}

fn default_venue() -> String {
    "sim".to_owned()
}
fn default_log_dir() -> PathBuf {
    PathBuf::from("logs")
}
fn default_run_dir() -> PathBuf {
    PathBuf::from("run")
}
fn default_sim_config() -> PathBuf {
    PathBuf::from("config/exchange_sim.toml")
}

/// The port key of exchange-sim's config.
#[derive(Debug, Deserialize)]
struct SimFile {
    #[serde(default = "default_sim_port")]
    port: u16,
}

fn default_sim_port() -> u16 {
    8765
}

/// An agent, resolved.
#[derive(Debug, Clone)]
pub struct AgentSpec {
    /// Which agent.
    pub component: Component,
    /// Its binary.
    pub binary: PathBuf,
    /// Its config file.
    pub config: PathBuf,
    /// `venue` of its config (`sim` when absent).
    pub venue: String,
    /// Its log folder.
    pub log_dir: PathBuf,
    /// Its PID and status folder.
    pub run_dir: PathBuf,
    /// exchange-sim's config it reads when `venue = "sim"`.
    pub sim_config: PathBuf,
    /// What is wrong with its config file, if anything (absent, unreadable, not TOML).
    pub config_problem: Option<String>,
    /// Its binary has the live `run` subcommand (see `capability.rs`).
    pub live: bool,
}

impl AgentSpec {
    /// True when its binary exists and can trade live (`run`).
    pub fn installed(&self) -> bool {
        self.live
    }

    /// True when its binary exists (whether or not it has `run` yet).
    pub fn binary_present(&self) -> bool {
        self.binary.is_file()
    }

    /// True when it trades on exchange-sim.
    pub fn uses_sim(&self) -> bool {
        self.venue == "sim"
    }

    /// Its PID file.
    pub fn pid_path(&self) -> PathBuf {
        self.run_dir.join(format!("{}.pid", self.component.name()))
    }

    /// Its status snapshot.
    pub fn status_path(&self) -> PathBuf {
        self.run_dir.join(format!("{}.status.json", self.component.name()))
    }

    /// Its human log.
    pub fn log_path(&self) -> PathBuf {
        self.log_dir.join(self.component.log_name())
    }

    /// The file that says a person stopped it (`supervisor stop`), so `run` leaves it stopped.
    pub fn stopped_marker(&self) -> PathBuf {
        self.run_dir.join(format!("{}.stopped", self.component.name()))
    }
}

/// exchange-sim, resolved.
#[derive(Debug, Clone)]
pub struct SimSpec {
    /// Its binary.
    pub binary: PathBuf,
    /// Its config: the `sim_config` of the agents that trade on it.
    pub config: PathBuf,
    /// Its port, from that config.
    pub port: u16,
    /// The PID file its holder keeps.
    pub pid_path: PathBuf,
    /// Its log (stdout and stderr).
    pub log_path: PathBuf,
    /// Extra flags from `[sim] extra_args`.
    pub extra_args: Vec<String>,
    /// The file that says a person stopped it (`supervisor stop`), so `run` leaves it stopped.
    pub stopped_marker: PathBuf,
    /// What is wrong with its config, if anything.
    pub config_problem: Option<String>,
}

/// Everything resolved for one command.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The repository root: the agents' working directory.
    pub root: PathBuf,
    /// The supervisor's config.
    pub config: SupervisorConfig,
    /// The supervisor's config file (or where it would be).
    pub config_path: PathBuf,
    /// The binaries' folder.
    pub bin_dir: PathBuf,
    /// Folder of the supervisor's PID files and start locks.
    pub run_dir: PathBuf,
    /// main-agent and futures-agent, in that order.
    pub agents: Vec<AgentSpec>,
    /// exchange-sim.
    pub sim: SimSpec,
}

/// Finds the repository root: `flag`, else `$DUAL_AGENT_ROOT`, else the nearest folder holding
/// `config/` above the working directory, then above the executable, else the working directory.
pub fn find_root(flag: Option<&Path>) -> PathBuf {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some(root) =
        flag.map(Path::to_path_buf).or_else(|| std::env::var_os("DUAL_AGENT_ROOT").map(PathBuf::from))
    {
        return absolute(&cwd, &root);
    }
    let exe = std::env::current_exe().ok();
    let holds_config = |dir: &&Path| dir.join("config").is_dir();
    cwd.ancestors()
        .find(holds_config)
        .or_else(|| exe.as_deref().and_then(|e| e.ancestors().skip(1).find(holds_config)))
        .map_or_else(|| cwd.clone(), Path::to_path_buf)
}

/// `path` made absolute against `base`.
pub fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() { path.to_path_buf() } else { base.join(path) }
}

impl Layout {
    /// Resolves the table from the supervisor's config.
    ///
    /// # Errors
    /// Two agents on exchange-sim with different `sim_config` files (a config error).
    pub fn resolve(
        root: PathBuf,
        config: SupervisorConfig,
        config_path: PathBuf,
        bin_dir_flag: Option<&Path>,
    ) -> Result<Self, SupervisorError> {
        let bin_dir = bin_dir_flag
            .map(Path::to_path_buf)
            .or_else(|| std::env::var_os("DUAL_AGENT_BIN_DIR").map(PathBuf::from))
            .or_else(|| config.bin_dir.clone())
            .map(|dir| absolute(&root, &dir))
            .or_else(|| std::env::current_exe().ok().and_then(|e| e.parent().map(Path::to_path_buf)))
            .unwrap_or_else(|| root.join("target/release"));
        let log_dir = absolute(&root, &config.log_dir);
        let run_dir = absolute(&root, &config.run_dir);
        let cache = run_dir.join("supervisor.capabilities");
        let entries = [
            (Component::Main, &config.agents.main.config),
            (Component::Futures, &config.agents.futures.config),
        ];
        let agents: Vec<AgentSpec> = entries
            .into_iter()
            .map(|(c, path)| agent_spec(&root, &bin_dir, c, &absolute(&root, path), &cache))
            .collect();
        let mut sim_configs: Vec<&Path> =
            agents.iter().filter(|a| a.installed() && a.uses_sim()).map(|a| a.sim_config.as_path()).collect();
        sim_configs.dedup();
        if sim_configs.len() > 1 {
            return Err(SupervisorError::Setup(format!(
                "the agents trade on exchange-sim with different sim_config files ({}): they must share one simulator",
                sim_configs.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
        let sim_config = sim_configs
            .first()
            .map(|p| p.to_path_buf())
            .or_else(|| agents.iter().find(|a| a.uses_sim()).map(|a| a.sim_config.clone()))
            .unwrap_or_else(|| root.join(default_sim_config()));
        let (port, config_problem) = match agent_core::config::read_toml::<SimFile>(&sim_config) {
            Ok(file) if file.port == 0 => {
                (0, Some(format!("{}: port = 0, but the agents need a fixed port", sim_config.display())))
            }
            Ok(file) => (file.port, None),
            Err(e) => (default_sim_port(), Some(e.to_string())),
        };
        let sim = SimSpec {
            binary: bin_dir.join(Component::Sim.name()),
            config: sim_config,
            port,
            pid_path: run_dir.join("exchange-sim.pid"),
            log_path: log_dir.join(Component::Sim.log_name()),
            extra_args: config.sim.extra_args.clone(),
            stopped_marker: run_dir.join("exchange-sim.stopped"),
            config_problem,
        };
        Ok(Self { root, config, config_path, bin_dir, run_dir, agents, sim })
    }

    /// The stopped-by-a-person marker of a program.
    pub fn stopped_marker(&self, component: Component) -> PathBuf {
        match (component, self.agent(component)) {
            (Component::Sim, _) | (_, None) => self.sim.stopped_marker.clone(),
            (_, Some(agent)) => agent.stopped_marker(),
        }
    }

    /// The spec of an agent.
    pub fn agent(&self, component: Component) -> Option<&AgentSpec> {
        self.agents.iter().find(|a| a.component == component)
    }

    /// The installed agents.
    pub fn installed(&self) -> impl Iterator<Item = &AgentSpec> {
        self.agents.iter().filter(|a| a.installed())
    }

    /// The agents a target names (`all`: the installed ones; `sim`: none).
    pub fn agents_of(&self, target: Target) -> Vec<&AgentSpec> {
        match target {
            Target::All => self.installed().collect(),
            Target::Main => self.agent(Component::Main).into_iter().collect(),
            Target::Futures => self.agent(Component::Futures).into_iter().collect(),
            Target::Sim => Vec::new(),
        }
    }

    /// True when exchange-sim belongs to a target: `sim` itself, or `all` when an installed
    /// agent trades on it.
    pub fn sim_in(&self, target: Target) -> bool {
        match target {
            Target::Sim => true,
            Target::All => self.installed().any(AgentSpec::uses_sim),
            Target::Main | Target::Futures => false,
        }
    }
}

fn agent_spec(root: &Path, bin_dir: &Path, component: Component, config: &Path, cache: &Path) -> AgentSpec {
    let (file, config_problem) = if config.is_file() {
        match agent_core::config::read_toml::<AgentFile>(config) {
            Ok(file) => (Some(file), None),
            Err(e) => (None, Some(e.to_string())),
        }
    } else {
        (None, Some(format!("{}: config file not found", config.display())))
    };
    let file = file.unwrap_or(AgentFile {
        venue: default_venue(),
        log_dir: default_log_dir(),
        run_dir: default_run_dir(),
        sim_config: default_sim_config(),
    });
    let binary = bin_dir.join(component.name());
    AgentSpec {
        component,
        live: has_run(&binary, cache),
        binary,
        config: config.to_path_buf(),
        venue: file.venue,
        log_dir: absolute(root, &file.log_dir),
        run_dir: absolute(root, &file.run_dir),
        sim_config: absolute(root, &file.sim_config),
        config_problem,
    }
}
