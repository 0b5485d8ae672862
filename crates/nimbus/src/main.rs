//! The `nimbus` binary: parse the command line and run the command.

mod body;
mod cli;
mod dispatch;
mod internal;
mod logging;
mod metrics;
mod serve;
mod server;
mod services;
mod shutdown;
mod sns_endpoints;

use std::process::ExitCode;

use clap::Parser;

/// mimalloc keeps freed memory for reuse instead of returning large blocks
/// to the kernel, so the 100 KB+ response buffers of Query and Scan do not
/// cost an mmap, page faults and an munmap per request as with glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Lambda re-executes this binary as a supervisor and an init for each
    // isolated environment (see nimbus-lambda's exec/sandbox/helper.rs);
    // those runs end here.
    nimbus_lambda::exec::sandbox::helper::run_if_requested();
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => serve::run(args),
    }
}
