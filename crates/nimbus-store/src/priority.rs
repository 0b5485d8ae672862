//! Thread scheduling priority, best effort.

/// Sets the calling thread's nice value. On Linux a thread has its own
/// (`setpriority` with `PRIO_PROCESS` and 0 names the calling thread). Only
/// a privileged process may raise priority (a negative value); otherwise
/// the thread simply keeps its priority.
pub(crate) fn set_thread_nice(nice: i32) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a plain syscall on the calling thread.
        let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
        if rc != 0 {
            tracing::debug!(nice, error = %std::io::Error::last_os_error(), "setting a store thread's priority");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = nice;
}
