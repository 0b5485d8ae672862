//! CloudWatch Logs for nimbus over the awsJson 1.1 protocol
//! (`X-Amz-Target: Logs_20140328.<Operation>`), with operations named as
//! AWS names them (`create_log_group`, `put_log_events`, ...).
//!
//! This crate knows nothing of HTTP. [`Logs::handle`] takes an operation
//! name and the awsJson request body and returns the response body or an
//! error. Other services write logs through [`Logs::append`] (Lambda: each
//! invocation's START / END / REPORT lines and function output).
//!
//! Invariants:
//! - Every operation that changes state is one store write call, so it is
//!   applied whole or not at all; a batch of events is never half stored.
//! - Events live under two keys (see [`keys`]): a group-wide time index
//!   holding the message, and a per-stream time index pointing at it. Both
//!   are written and deleted together, in the same write call.
//! - Events older than a group's retention are invisible to reads at once
//!   and deleted by [`Logs::enforce_retention`], which the server runs
//!   periodically.

pub mod arn;
pub mod error;
pub mod events;
pub mod groups;
pub mod keys;
pub mod model;
pub mod pattern;
pub mod read;
pub mod request;
pub mod retention;
pub mod streams;
pub mod tags;
pub mod token;

#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nimbus_store::Store;
use nimbus_wire::{AwsError, RequestContext};
use serde_json::Value;

pub use error::LogsError;
use error::Result;

/// Milliseconds since the epoch, from the service's clock.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// How often the server deletes events past their group's retention.
pub const RETENTION_SWEEP_INTERVAL: Duration = Duration::from_secs(60);

/// The CloudWatch Logs service: cheap to clone, shared by all connections.
#[derive(Clone)]
pub struct Logs {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Clock,
}

impl Logs {
    /// Opens the service on `store` with the wall clock. Groups, streams and
    /// events are read from the store on demand: there is nothing to load.
    pub fn open(store: Store) -> Logs {
        Logs::with_clock(store, Arc::new(wall_clock_ms))
    }

    /// Opens the service with an injected clock (tests move time forward).
    pub fn with_clock(store: Store, clock: Clock) -> Logs {
        Logs {
            inner: Arc::new(Inner { store, clock }),
        }
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn now_ms(&self) -> i64 {
        (self.inner.clock)()
    }

    /// Starts the periodic retention sweep on the current tokio runtime;
    /// it stops when the store closes.
    pub fn spawn_retention_sweeper(&self) {
        let logs = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(RETENTION_SWEEP_INTERVAL);
            loop {
                tick.tick().await;
                match logs.enforce_retention().await {
                    Ok(0) => {}
                    Ok(n) => tracing::debug!("deleted {n} log events past retention"),
                    Err(LogsError::ServiceUnavailable(e)) if e.contains("closed") => return,
                    Err(e) => tracing::warn!("log retention sweep failed: {e}"),
                }
            }
        });
    }

    /// Appends events to `group`/`stream`, creating either if missing: the
    /// in-process way for other services (Lambda) to write logs. One store
    /// write per call. Events need not be sorted (they are, stably, by
    /// timestamp); none is rejected for its age, since the caller made it
    /// just now.
    pub async fn append(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) -> std::result::Result<(), LogsError> {
        events::append(self, account, region, group, stream, events).await
    }

    /// [`Logs::append`] without waiting: the write is queued on a task of
    /// the current tokio runtime and a failure is logged. For callers on a
    /// latency-sensitive path (Lambda's Invoke), where waiting would add a
    /// durable commit (an fsync) to every response, as AWS's own log
    /// delivery is asynchronous too. Appends from one caller are queued in
    /// call order only if each is awaited; detached ones may interleave, so
    /// one invocation's lines belong in one call.
    pub fn append_detached(
        &self,
        account: &str,
        region: &str,
        group: &str,
        stream: &str,
        events: Vec<(i64, String)>,
    ) {
        let logs = self.clone();
        let (account, region) = (account.to_owned(), region.to_owned());
        let (group, stream) = (group.to_owned(), stream.to_owned());
        tokio::spawn(async move {
            if let Err(e) = logs
                .append(&account, &region, &group, &stream, events)
                .await
            {
                tracing::warn!("could not write logs to {group} / {stream}: {e}");
            }
        });
    }

    /// Runs one operation (`"PutLogEvents"`, ...) on an awsJson 1.1 request
    /// body and returns the JSON response body.
    pub async fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        body: &[u8],
    ) -> std::result::Result<Vec<u8>, AwsError> {
        let out = self
            .dispatch(ctx, operation, body)
            .await
            .map_err(LogsError::into_aws)?;
        Ok(serde_json::to_vec(&out).unwrap_or_else(|_| b"{}".to_vec()))
    }

    async fn dispatch(&self, ctx: &RequestContext, operation: &str, body: &[u8]) -> Result<Value> {
        let req = request::parse(body)?;
        match operation {
            "CreateLogGroup" => groups::create_log_group(self, ctx, &req).await,
            "DeleteLogGroup" => groups::delete_log_group(self, ctx, &req).await,
            "DescribeLogGroups" => groups::describe_log_groups(self, ctx, &req),
            "PutRetentionPolicy" => retention::put_retention_policy(self, ctx, &req).await,
            "DeleteRetentionPolicy" => retention::delete_retention_policy(self, ctx, &req).await,
            "CreateLogStream" => streams::create_log_stream(self, ctx, &req).await,
            "DeleteLogStream" => streams::delete_log_stream(self, ctx, &req).await,
            "DescribeLogStreams" => streams::describe_log_streams(self, ctx, &req),
            "PutLogEvents" => events::put_log_events(self, ctx, &req).await,
            "GetLogEvents" => read::get_log_events(self, ctx, &req),
            "FilterLogEvents" => read::filter_log_events(self, ctx, &req),
            "TagLogGroup" => tags::tag_log_group(self, ctx, &req).await,
            "UntagLogGroup" => tags::untag_log_group(self, ctx, &req).await,
            "ListTagsLogGroup" => tags::list_tags_log_group(self, ctx, &req),
            "TagResource" => tags::tag_resource(self, ctx, &req).await,
            "UntagResource" => tags::untag_resource(self, ctx, &req).await,
            "ListTagsForResource" => tags::list_tags_for_resource(self, ctx, &req),
            other => Err(LogsError::UnknownOperation(format!(
                "nimbus does not implement the CloudWatch Logs operation {other} yet."
            ))),
        }
    }
}

fn wall_clock_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
