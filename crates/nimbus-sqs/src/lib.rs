//! SQS for nimbus: standard and FIFO queues, dead-letter queues, queue
//! tags and policies over the awsJson 1.0 and awsQuery protocols ([`query`]), with
//! operations named as AWS names them (`create_queue`, `send_message`, ...).
//!
//! This crate knows nothing of HTTP. [`Sqs::handle`] takes an operation name
//! and the awsJson request body and returns the response body or an error.
//! Every change to a queue or message is one durable store write; waiting
//! receivers (long polling) are woken through one [`Notify`] per queue.

pub mod attempts;
pub mod attributes;
pub mod config;
pub mod error;
pub mod fifo;
pub mod groups;
pub mod inflight;
pub mod md5;
pub mod messages;
pub mod model;
pub mod movetasks;
pub mod permissions;
pub mod policy;
pub mod query;
pub mod queues;
pub mod receipt;
pub mod receive;
pub mod redrive;
pub mod request;
pub mod send;
pub mod sse;
pub mod tags;
pub mod tombstones;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use nimbus_clock::Clock;
use nimbus_store::{ReadView, Store};
use nimbus_wire::{AwsError, RequestContext};
use serde_json::Value;
use tokio::sync::Notify;

use crate::error::{Result, SqsError};
use crate::model::QueueRecord;

/// The SQS service: cheap to clone, shared by all connections.
#[derive(Clone)]
pub struct Sqs {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// The server's one clock: every timestamp, deadline and visibility
    /// time in this crate is read from it, never from `SystemTime`.
    clock: Clock,
    /// One wake-up per queue id, for receivers waiting on an empty queue.
    notifiers: Mutex<HashMap<u64, Arc<Notify>>>,
    /// When each queue was last purged (ms), for the one-purge-a-minute rule.
    purges: Mutex<HashMap<u64, u64>>,
    /// Set when the server stops: long polls answer at once instead of
    /// holding graceful shutdown for up to 20 seconds.
    stopping: AtomicBool,
    stop: Notify,
    /// Set once the move tasks left running by the previous process have
    /// been restarted (on the first request, which has a runtime to spawn on).
    tasks_resumed: AtomicBool,
    inflight_limits: inflight::Limits,
    /// Upper bounds on each queue's messages in flight (see `inflight`).
    inflight: inflight::Bounds,
}

impl Sqs {
    /// Opens the service on `store`. Queues and messages are read from the
    /// store on demand, so there is nothing to load.
    pub fn open(store: Store, clock: Clock) -> Sqs {
        Sqs::open_with_limits(store, clock, inflight::Limits::default())
    }

    /// Opens the service with in-flight limits other than AWS's (tests only:
    /// they reach a limit of a few messages cheaply).
    pub fn open_with_limits(store: Store, clock: Clock, limits: inflight::Limits) -> Sqs {
        Sqs {
            inner: Arc::new(Inner {
                store,
                clock,
                notifiers: Mutex::default(),
                purges: Mutex::default(),
                stopping: AtomicBool::new(false),
                stop: Notify::new(),
                tasks_resumed: AtomicBool::new(false),
                inflight_limits: limits,
                inflight: inflight::Bounds::default(),
            }),
        }
    }

    /// Ends every long poll now (with no messages) and makes later ones
    /// return without waiting. Called when the server begins to shut down.
    pub fn begin_shutdown(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.stop.notify_waiters();
    }

    pub(crate) fn stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::SeqCst)
    }

    pub(crate) fn stop_signal(&self) -> &Notify {
        &self.inner.stop
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Milliseconds since the epoch by the server's clock.
    pub(crate) fn now_ms(&self) -> u64 {
        self.inner.clock.now_ms()
    }

    pub(crate) fn inflight_limit(&self, fifo: bool) -> u64 {
        self.inner.inflight_limits.for_queue(fifo)
    }

    pub(crate) fn inflight(&self) -> &inflight::Bounds {
        &self.inner.inflight
    }

    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    pub(crate) fn notifier(&self, queue_id: u64) -> Arc<Notify> {
        let mut map = self
            .inner
            .notifiers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(queue_id).or_default())
    }

    pub(crate) fn forget_queue(&self, queue_id: u64) {
        let notify = self
            .inner
            .notifiers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&queue_id);
        self.inner.inflight.forget(queue_id);
        // Receivers still waiting re-check, find no queue, and give up.
        if let Some(notify) = notify {
            notify.notify_waiters();
        }
    }

    /// Records a purge of `queue_id` at `now_ms` unless one happened in the
    /// last 60 seconds; returns whether it was recorded.
    pub(crate) fn start_purge(&self, queue_id: u64, now_ms: u64) -> bool {
        let mut purges = self
            .inner
            .purges
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match purges.get(&queue_id) {
            Some(&last) if now_ms < last + 60_000 => false,
            _ => {
                purges.insert(queue_id, now_ms);
                true
            }
        }
    }

    /// Runs one operation (`"SendMessage"`, ...) on an awsJson1_0 request body
    /// and returns the JSON response body.
    pub async fn handle(
        &self,
        ctx: &RequestContext,
        operation: &str,
        body: &[u8],
    ) -> std::result::Result<Vec<u8>, AwsError> {
        self.resume_tasks_once().await;
        let req = request::parse(body).map_err(SqsError::into_aws)?;
        let out = self
            .dispatch(ctx, operation, &req)
            .await
            .map_err(SqsError::into_aws)?;
        Ok(serde_json::to_vec(&out).unwrap_or_else(|_| b"{}".to_vec()))
    }

    /// Runs one awsQuery request: `params` are its decoded form parameters
    /// (body, or query string for GET) and `path` its request path, which
    /// names the queue when the request is sent to a queue URL. Returns the
    /// XML response document; errors are rendered by the caller with
    /// [`query::XMLNS`].
    pub async fn handle_query(
        &self,
        ctx: &RequestContext,
        path: &str,
        params: &[(String, String)],
    ) -> std::result::Result<String, AwsError> {
        self.resume_tasks_once().await;
        let query::QueryRequest { action, request } =
            query::parse_request(ctx, path, params).map_err(SqsError::into_aws)?;
        let out = self
            .dispatch(ctx, &action, &request)
            .await
            .map_err(|e| query::query_error(e).into_aws())?;
        Ok(query::render_response(&action, &out, &ctx.request_id))
    }

    /// Restarts the move tasks the previous process left running, on the
    /// first request (which has a runtime to spawn on).
    async fn resume_tasks_once(&self) {
        if !self.inner.tasks_resumed.swap(true, Ordering::SeqCst) {
            if let Err(e) = movetasks::resume_all(self).await {
                tracing::error!(error = %e.message, "could not resume message move tasks");
            }
        }
    }

    async fn dispatch(
        &self,
        ctx: &RequestContext,
        operation: &str,
        req: &request::Object,
    ) -> Result<Value> {
        match operation {
            "CreateQueue" => queues::create_queue(self, ctx, req).await,
            "GetQueueUrl" => queues::get_queue_url(self, ctx, req),
            "ListQueues" => queues::list_queues(self, ctx, req),
            "DeleteQueue" => queues::delete_queue(self, ctx, req).await,
            "GetQueueAttributes" => queues::get_queue_attributes(self, ctx, req),
            "SetQueueAttributes" => queues::set_queue_attributes(self, ctx, req).await,
            "PurgeQueue" => queues::purge_queue(self, ctx, req).await,
            "SendMessage" => send::send_message(self, ctx, req).await,
            "SendMessageBatch" => send::send_message_batch(self, ctx, req).await,
            "ReceiveMessage" => receive::receive_message(self, ctx, req).await,
            "DeleteMessage" => messages::delete_message(self, ctx, req).await,
            "DeleteMessageBatch" => messages::delete_message_batch(self, ctx, req).await,
            "ChangeMessageVisibility" => messages::change_message_visibility(self, ctx, req).await,
            "ChangeMessageVisibilityBatch" => {
                messages::change_message_visibility_batch(self, ctx, req).await
            }
            "ListDeadLetterSourceQueues" => redrive::list_dead_letter_source_queues(self, ctx, req),
            "StartMessageMoveTask" => movetasks::start_message_move_task(self, ctx, req).await,
            "ListMessageMoveTasks" => movetasks::list_message_move_tasks(self, ctx, req),
            "CancelMessageMoveTask" => movetasks::cancel_message_move_task(self, ctx, req).await,
            "TagQueue" => tags::tag_queue(self, ctx, req).await,
            "UntagQueue" => tags::untag_queue(self, ctx, req).await,
            "ListQueueTags" => tags::list_queue_tags(self, ctx, req),
            "AddPermission" => permissions::add_permission(self, ctx, req).await,
            "RemovePermission" => permissions::remove_permission(self, ctx, req).await,
            other => Err(SqsError {
                shape: "UnsupportedOperation",
                query_code: "AWS.SimpleQueueService.UnsupportedOperation",
                message: format!("nimbus does not implement the SQS operation {other} yet."),
                sender_fault: true,
                status: 400,
            }),
        }
    }

    /// The queue a `QueueUrl` names: `http(s)://host/{account}/{name}`.
    pub(crate) fn resolve(&self, ctx: &RequestContext, url: &str) -> Result<QueueRecord> {
        let (account, name) = parse_queue_url(url).ok_or_else(|| SqsError::invalid_address(url))?;
        self.load(&ctx.region, account, name)?
            .ok_or_else(SqsError::queue_does_not_exist)
    }

    pub(crate) fn load(
        &self,
        region: &str,
        account: &str,
        name: &str,
    ) -> Result<Option<QueueRecord>> {
        let snapshot = self.store().snapshot()?;
        load_queue(&snapshot, &model::queue_key(account, region, name))
    }
}

pub(crate) fn load_queue(view: &impl ReadView, key: &[u8]) -> Result<Option<QueueRecord>> {
    match view.get(key)? {
        None => Ok(None),
        Some(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| SqsError::internal(format!("queue record is unreadable: {e}"))),
    }
}

/// `(account, name)` of a queue URL, or `None` if it is not one.
pub fn parse_queue_url(url: &str) -> Option<(&str, &str)> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))?;
    let path = &rest[rest.find('/')?..];
    let mut segments = path.trim_end_matches('/').split('/').skip(1);
    let account = segments.next().filter(|s| !s.is_empty())?;
    let name = segments.next().filter(|s| !s.is_empty())?;
    segments.next().is_none().then_some((account, name))
}

/// The URL of a queue as clients reach this server.
pub fn queue_url(ctx: &RequestContext, account: &str, name: &str) -> String {
    let host = ctx.host.as_deref().unwrap_or("localhost:4566");
    format!("http://{host}/{account}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_parse() {
        assert_eq!(
            parse_queue_url("http://127.0.0.1:4566/000000000000/jobs"),
            Some(("000000000000", "jobs"))
        );
        assert_eq!(
            parse_queue_url("https://sqs.us-east-1.amazonaws.com/1/q/"),
            Some(("1", "q"))
        );
        assert_eq!(parse_queue_url("jobs"), None);
        assert_eq!(parse_queue_url("http://host/jobs"), None);
        assert_eq!(parse_queue_url("http://host/a/b/c"), None);
    }
}
