//! The command line of `supervisor` (DESIGN §8): the global options that find the repository,
//! its config and the binaries, the user's subcommands, and two hidden subcommands that the
//! supervisor runs itself (`exec`, the detaching trampoline, and `hold-pid`, the PID-file holder
//! of exchange-sim; see `spawn.rs`).

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Starts, stops, watches and reports on the trading agents and exchange-sim.
#[derive(Debug, Parser)]
#[command(
    name = "supervisor",
    version,
    after_help = "Exit codes: 0 ok, 1 runtime failure, 2 bad usage or config, 3 not running."
)]
pub struct Cli {
    /// The repository (the folder holding config/) [default: $DUAL_AGENT_ROOT, else the nearest
    /// folder above the working directory, then above this binary, that holds config/].
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The supervisor's config [default: ROOT/config/supervisor.toml; built-in defaults when
    /// absent].
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Where the agents' and exchange-sim's binaries are [default: $DUAL_AGENT_BIN_DIR, else
    /// `bin_dir` of the config, else this binary's own folder].
    #[arg(long, global = true, value_name = "DIR")]
    pub bin_dir: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start agents (and exchange-sim first when an agent trades on it); waits until ready.
    Start(TargetArg),
    /// Stop agents (SIGTERM, then SIGKILL of the process group after `stop_grace`).
    Stop(TargetArg),
    /// Stop, then start.
    Restart(TargetArg),
    /// Show state, PID, uptime, P&L, positions, memory and CPU; exit 3 unless all are running.
    Status(StatusArgs),
    /// Print the last lines of the logs, or follow them.
    Logs(LogsArgs),
    /// Ask running agents to reload their config (SIGHUP).
    Reload(AgentArg),
    /// Emergency flatten (SIGUSR2): cancel orders, close every position at market.
    Flatten(FlattenArgs),
    /// Show the agents' P&L, trades, positions and breakers; `--watch` for the live dashboard,
    /// `--export` / `--html` for the performance report.
    Monitor(MonitorArgs),
    /// Send today's performance summary to Discord now (DISCORD_WEBHOOK_URL).
    NotifySummary,
    /// Check binaries, configs, directories, PID files, the simulator's port and the agents.
    Doctor,
    /// Foreground mode (systemd): start everything, restart what dies, stop all on SIGTERM.
    Run,
    /// Internal: detach (setsid) or tie to the parent, then exec a command.
    #[command(hide = true)]
    Exec(ExecArgs),
    /// Internal: hold a PID file for a child that writes none (exchange-sim).
    #[command(hide = true)]
    HoldPid(HoldPidArgs),
}

/// What a command acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Target {
    /// main-agent.
    Main,
    /// futures-agent.
    Futures,
    /// exchange-sim.
    #[value(alias = "exchange-sim")]
    Sim,
    /// Every installed agent (and exchange-sim when one of them trades on it).
    All,
}

/// One agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AgentName {
    /// main-agent.
    Main,
    /// futures-agent.
    Futures,
}

/// `start`, `stop`, `restart`: an optional target.
#[derive(Debug, Clone, Args)]
pub struct TargetArg {
    /// main, futures, sim or all.
    #[arg(value_enum, default_value = "all")]
    pub target: Target,
}

/// `status` options.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// main, futures, sim or all.
    #[arg(value_enum, default_value = "all")]
    pub target: Target,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `logs` options.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// main, futures, sim, or all (both agents).
    #[arg(value_enum, default_value = "all")]
    pub target: Target,
    /// Keep printing what is appended (follows daily rotation), until interrupted.
    #[arg(short, long)]
    pub follow: bool,
    /// How many lines to print first.
    #[arg(short = 'n', long = "lines", default_value_t = 50, value_name = "N")]
    pub lines: usize,
}

/// `monitor` options.
#[derive(Debug, Clone, Args)]
pub struct MonitorArgs {
    /// Keep showing the dashboard (`q` quits); a plain-text snapshot per interval when stdout is
    /// not a terminal.
    #[arg(long, conflicts_with_all = ["export", "html"])]
    pub watch: bool,
    /// Seconds between refreshes of `--watch`.
    #[arg(long, default_value_t = 30, value_name = "S", requires = "watch",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub interval: u64,
    /// Write the report as JSON (`dual_agent_report_YYYYMMDD_HHMMSS.json`, UTC) in the working
    /// directory, or in the folder PATH (a PATH ending in .json is the file itself).
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub export: Option<Option<PathBuf>>,
    /// Write the report as one self-contained HTML file with charts.
    #[arg(long, value_name = "PATH")]
    pub html: Option<PathBuf>,
}

/// `reload`: an optional agent (default: every running agent).
#[derive(Debug, Clone, Args)]
pub struct AgentArg {
    /// main or futures [default: every running agent].
    #[arg(value_enum)]
    pub agent: Option<AgentName>,
}

/// `flatten` options.
#[derive(Debug, Clone, Args)]
pub struct FlattenArgs {
    /// main or futures [default: every running agent].
    #[arg(value_enum)]
    pub agent: Option<AgentName>,
    /// Do not ask for confirmation.
    #[arg(short, long)]
    pub yes: bool,
}

/// `exec`: the trampoline that puts a spawned command in its own session, or ties it to its
/// parent, before it runs.
#[derive(Debug, Clone, Args)]
pub struct ExecArgs {
    /// Start a new session (and process group) first.
    #[arg(long)]
    pub setsid: bool,
    /// Get SIGTERM when this parent process dies.
    #[arg(long, value_name = "PID")]
    pub die_with_parent: Option<u32>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<OsString>,
}

/// `hold-pid`: take a PID file for a command that writes none.
#[derive(Debug, Clone, Args)]
pub struct HoldPidArgs {
    /// The PID file to hold for the command's whole life.
    #[arg(long, value_name = "FILE")]
    pub pid_file: PathBuf,
    /// Start a new session (and process group) first.
    #[arg(long)]
    pub setsid: bool,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<OsString>,
}
