//! The `supervisor` binary: parse the command line, run, exit with its code (0 ok, 1 runtime
//! failure, 2 bad usage or config, 3 not running).

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

fn main() -> ExitCode {
    match supervisor::Cli::try_parse() {
        Ok(cli) => supervisor::run(cli),
        Err(e) => {
            let _ = e.print();
            // Bad usage: say how it is used, when clap's message did not.
            if e.use_stderr() && !e.to_string().contains("Usage:") {
                let mut command = supervisor::Cli::command();
                command.build();
                let sub = std::env::args().skip(1).find_map(|a| command.find_subcommand(&a).cloned());
                let usage = sub.map_or_else(|| command.render_usage(), |mut s| s.render_usage());
                eprintln!("\n{usage}\nRun `supervisor --help` for the commands and agents.");
            }
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2))
        }
    }
}
