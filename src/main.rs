//! `regrooter`: the local platform and the operator's command line.

mod cli;
mod dev;
mod edge_layer;
mod local;
mod platform;
mod retention_cli;
mod scheduler;
mod sla_cli;
mod waf_cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
