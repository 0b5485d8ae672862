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
    let cli = cli::Cli::parse();
    match cli.command {
        cli::Command::Serve(args) => serve::run(args),
    }
}
