//! futures-agent: the high-risk agent trading USD-M perpetuals with the momentum strategy of
//! DESIGN §10: the strategy (`strategy`), its config (`config`), the backtest command
//! (`backtest`), live trading (`live`) and the live commands (`commands`). [`Cli`] parses the
//! command line and [`run`] maps results to exit codes.

pub mod backtest;
pub mod commands;
pub mod config;
pub mod live;
pub mod strategy;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// futures-agent: USD-M perpetual momentum with leverage.
#[derive(Debug, Parser)]
#[command(name = "futures-agent", version, about)]
pub struct Cli {
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Trade on the configured venue (the default when no command is given).
    Run(commands::RunArgs),
    /// Check the config, secrets, connectivity, clock offset and permissions.
    Check(commands::LiveArgs),
    /// Print the last bars from the configured venue: `bars BTCUSDT 1h 5`.
    Bars(commands::BarsArgs),
    /// Run the strategy over kline files and write a JSON report.
    Backtest(backtest::BacktestArgs),
}

/// Runs a parsed command line; returns the process exit code (0 ok, 1 failure, 2 bad input).
pub fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or_else(|| Command::Run(commands::RunArgs::default())) {
        Command::Run(args) => commands::run(&args),
        Command::Check(args) => commands::check(&args),
        Command::Bars(args) => commands::bars(&args),
        Command::Backtest(args) => match backtest::run_backtest(&args) {
            Ok((report, skipped)) => {
                for symbol in &skipped {
                    eprintln!("note: {symbol} has no data in the range; skipped");
                }
                if let Err(e) = backtest::write_report(&report, &args.report) {
                    eprintln!("error: {e}");
                    return ExitCode::from(e.exit_code());
                }
                print!("{}", report.human_summary());
                println!("report written to {}", args.report.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(e.exit_code())
            }
        },
    }
}
