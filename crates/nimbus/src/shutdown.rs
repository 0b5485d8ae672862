//! Stop signals. Handlers are installed before the server reports that it
//! is ready, so a SIGTERM sent right after "listening on" starts a graceful
//! shutdown instead of killing the process with the default action.

use std::io;

#[cfg(unix)]
use tokio::signal::unix::{signal, Signal, SignalKind};

/// The installed SIGINT and SIGTERM handlers.
pub struct Signals {
    #[cfg(unix)]
    interrupt: Signal,
    #[cfg(unix)]
    terminate: Signal,
}

impl Signals {
    /// Installs the handlers; must run inside the Tokio runtime.
    pub fn install() -> io::Result<Signals> {
        #[cfg(unix)]
        {
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Waits for the next stop signal and returns its name for the log.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => "SIGINT",
                _ = self.terminate.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            // Without Unix signals only Ctrl-C is available. If its handler
            // cannot be installed, never resolve rather than stop at once.
            match tokio::signal::ctrl_c().await {
                Ok(()) => "Ctrl-C",
                Err(_) => std::future::pending().await,
            }
        }
    }
}
