//! futures-agent: the high-risk agent trading USD-M perpetuals with the momentum strategy of
//! DESIGN §10. So far: the strategy (`strategy`), its config (`config`) and the backtest command
//! (`backtest`); `cli` parses the command line and `run` maps results to exit codes.

pub mod backtest;
pub mod config;
pub mod live;
pub mod strategy;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// futures-agent: USD-M perpetual momentum with leverage.
#[derive(Debug, Parser)]
#[command(name = "futures-agent", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the strategy over kline files and write a JSON report.
    Backtest(backtest::BacktestArgs),
}

/// Runs a parsed command line; returns the process exit code (0 ok, 1 failure, 2 bad input).
pub fn run(cli: Cli) -> ExitCode {
    match cli.command {
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
