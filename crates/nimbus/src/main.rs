//! The `nimbus` binary: parse the command line and run the command.

mod body;
mod cli;
mod dispatch;
mod internal;
mod logging;
mod serve;
mod server;
mod services;
mod shutdown;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => serve::run(args),
    }
}
