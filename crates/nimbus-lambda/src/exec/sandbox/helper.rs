//! nimbus's binary in the roles of an environment's supervisor and init.
//!
//! Both are forks of nimbus, and a fork keeps a copy-on-write share of
//! nimbus's memory: every page nimbus changes afterwards stays behind in the
//! fork, so an environment living for hours would end up holding a copy of
//! nimbus's heap as it was when the environment started. Instead they exec
//! the nimbus binary afresh, with `argv[0]` naming the role, and that
//! process runs only the role's loop (`namespaces::supervise_loop` /
//! `init_loop`): a few hundred kilobytes of its own.
//!
//! A binary opts in by calling [`run_if_requested`] first thing in `main`.
//! Without it (the crate's own tests, another embedder) the forks keep
//! running the loops themselves.

use std::sync::atomic::{AtomicBool, Ordering};

use super::namespaces::{self, INIT, SUPERVISOR};

static AVAILABLE: AtomicBool = AtomicBool::new(false);

/// Whether this binary calls [`run_if_requested`] in `main`.
pub fn available() -> bool {
    AVAILABLE.load(Ordering::Relaxed)
}

/// Call first in `main`: when this process was started as an
/// environment's supervisor or init, runs that role and never returns;
/// otherwise returns at once.
pub fn run_if_requested() {
    AVAILABLE.store(true, Ordering::Relaxed);
    let args: Vec<_> = std::env::args_os().take(4).collect();
    let role = args.first().and_then(|a| a.to_str()).unwrap_or("");
    let is = |name: &std::ffi::CStr| name.to_str().is_ok_and(|n| n == role);
    if !is(SUPERVISOR) && !is(INIT) {
        return;
    }
    let number = |i: usize| {
        args.get(i)
            .and_then(|a| a.to_str())
            .and_then(|a| a.parse::<i32>().ok())
    };
    let (Some(pid), Some(fd), 3) = (number(1), number(2), args.len()) else {
        // Not started by nimbus as a helper after all.
        eprintln!("{role}: expected a pid and a file descriptor");
        std::process::exit(2);
    };
    // SAFETY: this process is single-threaded here (first thing in main)
    // and owns `fd`, inherited for this purpose.
    unsafe {
        if is(INIT) {
            // exec made it dumpable again: keep the function (same uid)
            // from tracing it or reading its /proc files.
            libc::prctl(libc::PR_SET_DUMPABLE, 0 as libc::c_ulong);
            namespaces::init_loop(pid, fd)
        } else {
            namespaces::supervise_loop(pid, fd)
        }
    }
}
