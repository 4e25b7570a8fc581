//! The `futures-agent` binary: parse the command line, run, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    futures_agent::run(futures_agent::Cli::parse())
}
