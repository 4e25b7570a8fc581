//! supervisor: starts, stops, watches and reports on the trading agents (main-agent,
//! futures-agent) and exchange-sim through their PID files and Unix signals (DESIGN §7, §8);
//! what `./dual_agent.sh` calls, and what systemd runs (`supervisor run`).
//!
//! | module      | owns                                                                    |
//! |-------------|-------------------------------------------------------------------------|
//! | `capability`| whether an agent's binary has its live `run` command yet                |
//! | `cli`       | the command line                                                        |
//! | `config`    | `config/supervisor.toml`                                                |
//! | `layout`    | the table of programs resolved to binaries, configs, PID files and logs |
//! | `process`   | who may be signalled (locked PID files only), process groups           |
//! | `spawn`     | detached spawning; the hidden `exec` trampoline and `hold-pid` holder   |
//! | `lifecycle` | one start with its readiness wait; stops with grace and SIGKILL         |
//! | `commands`  | `start`, `stop`, `restart`, `reload`, `flatten`                         |
//! | `status`    | `status` rows, table and JSON                                           |
//! | `logs`      | `logs`: tail and follow                                                 |
//! | `monitor`   | `monitor` (dashboard, snapshot, report export) and `notify-summary`     |
//! | `doctor`    | `doctor`                                                                |
//! | `daemon`    | `run`: the foreground mode with restarts and backoff                    |
//! | `sdnotify`  | systemd's notification socket                                           |
//!
//! [`run`] is the binary's body, a library function so that tests can drive it.

pub mod capability;
pub mod cli;
pub mod commands;
pub mod config;
pub mod daemon;
pub mod doctor;
pub mod layout;
pub mod lifecycle;
pub mod logs;
pub mod monitor;
pub mod process;
pub mod sdnotify;
pub mod spawn;
pub mod status;

use std::process::ExitCode;

use agent_core::config::ConfigError;

pub use cli::Cli;
use cli::Command;
use config::SupervisorConfig;
use layout::{Layout, absolute, find_root};

/// Why a command failed; each kind has its exit code.
#[derive(Debug, thiserror::Error)]
pub enum SupervisorError {
    /// A config file is invalid (exit 2).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Something the user must set up: a missing binary or config (exit 2).
    #[error("{0}")]
    Setup(String),
    /// Something failed while running (exit 1).
    #[error("{0}")]
    Runtime(String),
    /// What was asked about or addressed is not running (exit 3).
    #[error("{0}")]
    NotRunning(String),
    /// Already printed; only the exit code is left to give.
    #[error("(reported)")]
    Reported(u8),
}

impl SupervisorError {
    /// The exit code: 1 runtime failure, 2 bad usage or config, 3 not running.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Setup(_) => 2,
            Self::Runtime(_) => 1,
            Self::NotRunning(_) => 3,
            Self::Reported(code) => *code,
        }
    }
}

/// Loads the config and resolves the table of programs for `cli`.
///
/// # Errors
/// An invalid config file, or agents that disagree on exchange-sim's config.
pub fn layout(cli: &Cli) -> Result<Layout, SupervisorError> {
    let root = find_root(cli.root.as_deref());
    let cwd = std::env::current_dir().unwrap_or_else(|_| root.clone());
    let (config_path, required) = match &cli.config {
        Some(path) => (absolute(&cwd, path), true),
        None => (root.join("config/supervisor.toml"), false),
    };
    let config = SupervisorConfig::load(&config_path, required)?;
    let bin_dir = cli.bin_dir.as_deref().map(|d| absolute(&cwd, d));
    Layout::resolve(root, config, config_path, bin_dir.as_deref())
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> ExitCode {
    match &cli.command {
        Command::Exec(args) => return spawn::exec(args),
        Command::HoldPid(args) => return spawn::hold_pid(args),
        _ => {}
    }
    match dispatch(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(SupervisorError::Reported(code)) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(cli: &Cli) -> Result<u8, SupervisorError> {
    let layout = layout(cli)?;
    let none = || {};
    match &cli.command {
        Command::Start(t) => commands::start(&layout, t.target, &none).map(|()| 0),
        Command::Stop(t) => commands::stop(&layout, t.target, true, &none).map(|_| 0),
        Command::Restart(t) => {
            commands::stop(&layout, t.target, false, &none)?;
            commands::start(&layout, t.target, &none).map(|()| 0)
        }
        Command::Status(args) => {
            let (rows, all_up) = status::rows(&layout, args.target);
            if args.json {
                println!("{}", status::json(&rows, all_up));
            } else {
                print!("{}", status::table(&rows));
            }
            Ok(if all_up { 0 } else { 3 })
        }
        Command::Logs(args) => logs::logs(&layout, args).map(|()| 0),
        Command::Reload(args) => commands::reload(&layout, args.agent).map(|()| 0),
        Command::Flatten(args) => commands::flatten(&layout, args.agent, args.yes).map(|()| 0),
        Command::Monitor(args) => monitor::monitor(&layout, args).map(|()| 0),
        Command::NotifySummary => monitor::summary::notify_summary(&layout).map(|()| 0),
        Command::Doctor => doctor::doctor(&layout).map(|()| 0),
        Command::Run => daemon::run(&layout).map(|()| 0),
        Command::Exec(_) | Command::HoldPid(_) => Ok(0),
    }
}
