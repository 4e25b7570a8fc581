//! The `main-agent` binary: parse the command line, run, exit with its code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    main_agent::run(main_agent::Cli::parse())
}
