//! The HTTP server: accepts connections, speaks HTTP/1.1 (keep-alive) and
//! HTTP/2 (h2c, prior knowledge) on the same port, and shuts down
//! gracefully on SIGINT/SIGTERM.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};

use crate::dispatch::{self, App};
use crate::shutdown::Signals;

/// How long in-flight requests get to finish after a stop signal.
const GRACE_PERIOD: Duration = Duration::from_secs(30);

/// Slowloris guard: a client must send a request's headers within this time.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Pause after a failed `accept` (typically out of file descriptors), so a
/// persistent failure does not spin a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves until a stop signal, then stops accepting, lets open connections
/// finish their requests (up to [`GRACE_PERIOD`], or until a second signal)
/// and returns.
pub async fn run(listener: TcpListener, app: Arc<App>, mut signals: Signals) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .keep_alive(true);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();

    let signal = loop {
        tokio::select! {
            signal = signals.recv() => break signal,
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => serve_connection(&builder, &graceful, stream, peer, &app),
                Err(e) => {
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
        }
    };
    drop(listener);
    // Long polls would otherwise hold the connections below for up to 20 s.
    app.services.sqs.begin_shutdown();
    // Event source mapping pollers stop, idle function environments go.
    app.services.lambda.shutdown();

    tracing::info!(
        "{signal} received: no longer accepting connections; waiting for {} open connection(s) to finish",
        graceful.count()
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(GRACE_PERIOD) => {
            tracing::warn!("requests still running after {GRACE_PERIOD:?}; closing their connections");
        }
        signal = signals.recv() => {
            tracing::warn!("{signal} received again: closing open connections now");
        }
    }
}

fn serve_connection(
    builder: &auto::Builder<TokioExecutor>,
    graceful: &GracefulShutdown,
    stream: TcpStream,
    peer: std::net::SocketAddr,
    app: &Arc<App>,
) {
    // Requests and responses are small and latency-bound.
    let _ = stream.set_nodelay(true);
    let app = Arc::clone(app);
    let service = service_fn(move |request| {
        let app = Arc::clone(&app);
        async move { Ok::<_, Infallible>(dispatch::handle(app, request, peer).await) }
    });
    let connection = builder
        .serve_connection(TokioIo::new(stream), service)
        .into_owned();
    let connection = graceful.watch(connection);
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            // Clients hanging up mid-request is routine; not worth more than debug.
            tracing::debug!("connection ended with an error: {e}");
        }
    });
}
