//! main-agent: the low-risk agent trading Binance spot USDT pairs, long or flat (DESIGN §11):
//! its config (`config`), the environment and `--set` layers over it (`settings`), the live
//! commands (`commands`: run, check, bars), the backtest command (`backtest`), its report
//! (`report`) and the feature ablation (`ablation`).
//! The decision core itself (regimes, entry rules, the ML gate, sizing and the portfolio caps)
//! is agent-core's `spot`, `regime` and `ml` with risk-core's `var`, `portfolio` and
//! `spot_sizing`, so the live agent will run exactly what the backtests run. [`Cli`] parses
//! the command line and [`run`] maps results to exit codes.

pub mod ablation;
pub mod backtest;
pub mod commands;
pub mod config;
pub mod live;
pub mod report;
pub mod settings;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// main-agent: spot USDT pairs with regimes, an ML gate, a correlation cap and a VaR limit.
#[derive(Debug, Parser)]
#[command(name = "main-agent", version, about)]
pub struct Cli {
    /// What to do (default: run).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Trade on the configured venue (the default when no command is given).
    Run(agent_core::live::cli::RunArgs),
    /// Check the config, secrets, connectivity, clock offset, permissions and symbols.
    Check(agent_core::live::cli::LiveArgs),
    /// Print the last bars from the configured venue: `bars BTCUSDT 1h 5`.
    Bars(agent_core::live::cli::BarsArgs),
    /// Run the strategy over kline files and write a JSON report.
    Backtest(backtest::BacktestArgs),
}

/// Runs a parsed command line; returns the process exit code (0 ok, 1 failure, 2 bad input).
pub fn run(cli: Cli) -> ExitCode {
    match cli.command.unwrap_or_else(|| Command::Run(agent_core::live::cli::RunArgs::default())) {
        Command::Run(args) => commands::run(&args),
        Command::Check(args) => commands::check(&args),
        Command::Bars(args) => commands::bars(&args),
        Command::Backtest(args) => run_backtest_command(&args),
    }
}

fn run_backtest_command(args: &backtest::BacktestArgs) -> ExitCode {
    let fail = |message: &dyn std::fmt::Display, code: u8| {
        eprintln!("error: {message}");
        ExitCode::from(code)
    };
    let layers = match backtest::environment() {
        Ok(layers) => layers,
        Err(e) => return fail(&e, 2),
    };
    for loose in layers.loose_files() {
        eprintln!(
            "warning: {} is readable by group or others (chmod 600 it): it may hold secrets",
            loose.display()
        );
    }
    let outcome = match backtest::run_backtest(args, &layers) {
        Ok(outcome) => outcome,
        Err(e) => return fail(&e, e.exit_code()),
    };
    for symbol in &outcome.report.params.skipped {
        eprintln!("note: {symbol} has no data in the range; skipped");
    }
    if let Err(e) = backtest::write_json(&outcome.report, &args.report) {
        return fail(&e, e.exit_code());
    }
    if let Some(path) = &args.save_model {
        match &outcome.model {
            Some(model) => {
                if let Err(e) = model.save(path) {
                    return fail(&e, 1);
                }
            }
            None => eprintln!("note: no gate model was fitted; {} not written", path.display()),
        }
    }
    print!("{}", outcome.report.human_summary());
    if let Some(table) = &outcome.ablation_table {
        print!("{table}");
    }
    println!("report written to {}", args.report.display());
    ExitCode::SUCCESS
}
