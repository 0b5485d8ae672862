//! One invocation from the moment its environment has it to its REPORT
//! line, and the two ways its answer reaches the caller: in one piece
//! ([`Execution`]), or as a [`ResponseStream`] whose chunks go out as the
//! function writes them while the invocation runs on.
//!
//! A streamed invocation finishes on a task of its own, so its environment
//! is freed, its timeout enforced and its log written whatever its caller
//! does: a caller that reads slowly holds the function back (the chunk
//! channel is bounded), one that goes away stops receiving while the
//! function runs to its end, as on AWS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use tokio::sync::{mpsc, oneshot};

use super::concurrency::Slot;
use super::environment::{Environment, Exit, Outcome, Stopped};
use super::pool::{Pool, PoolKey};
use super::runtime_api::{
    RuntimeReply, StreamEnd, StreamedResponse, MAX_RESPONSE_BYTES, MAX_STREAMED_RESPONSE_BYTES,
};
use super::{doc, error_document, exit_error, Execution, InvokeResult, LogSink};

/// AWS's text when a buffered response is too large (its number is AWS's).
const BUFFERED_TOO_LARGE: &str =
    "Response payload size exceeded maximum allowed payload size (6291556 bytes).";

/// How an invocation's answer reaches a caller that can take it in pieces.
#[derive(Debug)]
pub enum Answer {
    /// The function answered in one piece, or failed before answering: the
    /// invocation is over.
    Whole(Execution),
    /// The function streams its response: the invocation ends with the
    /// stream, and [`ResponseStream::finish`] says how.
    Stream(ResponseStream),
}

/// An invocation handed to its environment, whose answer is still to come.
pub struct Running(pub(super) oneshot::Receiver<Answer>);

impl Running {
    /// Waits for the function to answer or to start streaming.
    pub async fn answer(self) -> Answer {
        self.0.await.unwrap_or_else(|_| Answer::Whole(lost()))
    }
}

/// A streamed response on its way to the caller.
#[derive(Debug)]
pub struct ResponseStream {
    /// The Content-Type the function gave its stream
    /// (`application/vnd.awslambda.http-integration-response` when a
    /// status-and-headers prelude comes first).
    pub content_type: Option<String>,
    chunks: mpsc::Receiver<Bytes>,
    end: oneshot::Receiver<Execution>,
    ended: Option<Execution>,
}

impl ResponseStream {
    /// The next chunk as the function wrote it, or `None` once the body is
    /// over ([`ResponseStream::finish`] says whether it ended well).
    pub async fn chunk(&mut self) -> Option<Bytes> {
        if self.ended.is_none() {
            tokio::select! {
                // Chunks first: a body that ended normally is read to its
                // end before the invocation's result is looked at.
                biased;
                chunk = self.chunks.recv() => return chunk,
                end = &mut self.end => self.ended = Some(end.unwrap_or_else(|_| lost())),
            }
        }
        // The invocation ended (timed out, died) while the runtime still
        // held its body open: what had arrived goes out, nothing more.
        self.chunks.try_recv().ok()
    }

    /// How the invocation ended, once it has: a `Success` (its body went
    /// out as chunks and is not repeated here) or the function's error.
    pub async fn finish(self) -> Execution {
        match self.ended {
            Some(execution) => execution,
            None => self.end.await.unwrap_or_else(|_| lost()),
        }
    }

    /// The whole body for a caller that takes responses in one piece (plain
    /// Invoke of a streaming function), within AWS's buffered limit; past
    /// it the rest is discarded as the function writes it.
    pub async fn collect(mut self) -> Execution {
        let mut body = BytesMut::new();
        let mut fits = true;
        while let Some(chunk) = self.chunk().await {
            if fits && body.len() + chunk.len() <= MAX_RESPONSE_BYTES {
                body.extend_from_slice(&chunk);
            } else if fits {
                fits = false;
                self.chunks.close();
            }
        }
        let content_type = self.content_type.take();
        let mut execution = self.finish().await;
        execution.content_type = content_type;
        if matches!(execution.result, InvokeResult::Success(_)) {
            execution.result = if fits {
                InvokeResult::Success(body.freeze())
            } else {
                InvokeResult::FunctionError(doc(
                    "Function.ResponseSizeTooLarge",
                    BUFFERED_TOO_LARGE,
                ))
            };
        }
        execution
    }
}

/// Where an invocation's log goes.
pub(super) struct LogTarget {
    pub account: String,
    pub region: String,
    /// `/aws/lambda/NAME`
    pub group: String,
}

/// Everything needed to finish an invocation, owned, so that a streamed
/// one can finish after its caller has had its first bytes.
pub(super) struct Busy {
    pub env: Environment,
    pub key: PoolKey,
    /// START and init output so far.
    pub log: Vec<u8>,
    pub request_id: String,
    pub started: Instant,
    pub init_duration: Option<Duration>,
    pub timeout: Duration,
    pub deadline: tokio::time::Instant,
    pub memory_size: u32,
    pub log_target: LogTarget,
    pub pool: Arc<Pool>,
    pub log_sink: Option<LogSink>,
    /// Held until the invocation ends, streamed or not.
    pub slot: Slot,
}

/// How an invocation ended, in the terms its result is made of.
enum Ended {
    Response(Bytes),
    /// A streamed response that ended well: its body went out in chunks.
    Streamed,
    Error {
        body: Bytes,
        error_type: Option<String>,
    },
    TooLarge {
        streamed: bool,
    },
    Timeout,
    Exit(Exit),
}

impl Busy {
    /// Turns the runtime's reply into the caller's answer. A whole reply
    /// finishes the invocation here; a streamed one is handed over at once
    /// while a task of its own waits for its end and finishes it.
    pub async fn answer(self, outcome: Outcome) -> Answer {
        let ended = match outcome {
            Outcome::Reply(RuntimeReply::Streaming(streamed)) => return self.stream(streamed),
            Outcome::Reply(RuntimeReply::Response { body }) => Ended::Response(body),
            Outcome::Reply(RuntimeReply::Error { body, error_type }) => {
                Ended::Error { body, error_type }
            }
            Outcome::Reply(RuntimeReply::ResponseTooLarge) => Ended::TooLarge { streamed: false },
            Outcome::Timeout => Ended::Timeout,
            Outcome::Exit(exit) => Ended::Exit(exit),
        };
        Answer::Whole(self.finish(ended).await)
    }

    fn stream(mut self, streamed: StreamedResponse) -> Answer {
        let StreamedResponse {
            content_type,
            chunks,
            end,
        } = streamed;
        let (done, result) = oneshot::channel();
        tokio::spawn(async move {
            let deadline = self.deadline;
            let ended = match self.env.stream_end(end, deadline).await {
                Ok(StreamEnd::Complete) => Ended::Streamed,
                Ok(StreamEnd::Error { body, error_type }) => Ended::Error { body, error_type },
                Ok(StreamEnd::TooLarge) => Ended::TooLarge { streamed: true },
                Err(Stopped::Timeout) => Ended::Timeout,
                Err(Stopped::Exit(exit)) => Ended::Exit(exit),
            };
            // Sent even if nobody listens any more: the invocation is over
            // either way.
            let _ = done.send(self.finish(ended).await);
        });
        Answer::Stream(ResponseStream {
            content_type,
            chunks,
            end: result,
            ended: None,
        })
    }

    /// The END and REPORT lines, the environment back to the pool (or
    /// gone, after a timeout or a crash), the log published.
    async fn finish(self, ended: Ended) -> Execution {
        let Busy {
            env,
            key,
            mut log,
            request_id,
            started,
            init_duration,
            timeout,
            memory_size,
            log_target,
            pool,
            log_sink,
            slot,
            ..
        } = self;
        let output = env.take_logs().await;
        log.extend_from_slice(&output);
        let memory = env.max_memory_mb();
        let (result, reusable) = match ended {
            Ended::Response(body) => (InvokeResult::Success(body), true),
            Ended::Streamed => (InvokeResult::Success(Bytes::new()), true),
            Ended::Error { body, error_type } => (
                InvokeResult::FunctionError(error_document(body, error_type)),
                true,
            ),
            Ended::TooLarge { streamed: false } => (
                InvokeResult::FunctionError(doc("Function.ResponseSizeTooLarge", BUFFERED_TOO_LARGE)),
                true,
            ),
            Ended::TooLarge { streamed: true } => (
                InvokeResult::FunctionError(doc(
                    "Function.ResponseSizeTooLarge",
                    &format!("Response payload size exceeded maximum allowed payload size ({MAX_STREAMED_RESPONSE_BYTES} bytes)."),
                )),
                true,
            ),
            Ended::Timeout => {
                env.kill();
                let seconds = format!("{:.2}", timeout.as_secs_f64());
                log.extend_from_slice(
                    format!(
                        "{} {request_id} Task timed out after {seconds} seconds\n",
                        crate::model::log_timestamp(crate::model::now_ms())
                    )
                    .as_bytes(),
                );
                (
                    InvokeResult::FunctionError(doc(
                        "Sandbox.Timedout",
                        &format!(
                            "RequestId: {request_id} Error: Task timed out after {seconds} seconds"
                        ),
                    )),
                    false,
                )
            }
            Ended::Exit(exit) => (
                InvokeResult::FunctionError(exit_error(&exit, &request_id, &mut log)),
                false,
            ),
        };
        let stream = env.log_stream.clone();
        if reusable && env.alive() {
            pool.put(key, env);
        } else {
            drop(env);
        }
        drop(slot);
        let execution = report(
            log,
            &request_id,
            memory_size,
            started,
            init_duration,
            memory,
            result,
        );
        publish_log(log_sink.as_ref(), &log_target, &stream, &execution.log);
        execution
    }
}

/// Appends END and REPORT to an invocation's log.
pub(super) fn report(
    mut log: Vec<u8>,
    request_id: &str,
    memory_size: u32,
    started: Instant,
    init: Option<Duration>,
    memory_mb: u64,
    result: InvokeResult,
) -> Execution {
    let duration = started.elapsed();
    let ms = duration.as_secs_f64() * 1000.0;
    let mut report = format!(
        "END RequestId: {request_id}\nREPORT RequestId: {request_id}\tDuration: {ms:.2} ms\tBilled Duration: {} ms\tMemory Size: {} MB\tMax Memory Used: {memory_mb} MB\t",
        ms.ceil() as u64,
        memory_size,
    );
    if let Some(init) = init {
        report.push_str(&format!(
            "Init Duration: {:.2} ms\t",
            init.as_secs_f64() * 1000.0
        ));
    }
    report.push('\n');
    log.extend_from_slice(report.as_bytes());
    Execution {
        result,
        content_type: None,
        log,
        duration,
    }
}

/// Sends one invocation's log (a line per event) to the log sink.
pub(super) fn publish_log(sink: Option<&LogSink>, target: &LogTarget, stream: &str, log: &[u8]) {
    let Some(sink) = sink else {
        return;
    };
    let now = crate::model::now_ms() as i64;
    let events: Vec<(i64, String)> = String::from_utf8_lossy(log)
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| (now, l.to_owned()))
        .collect();
    if !events.is_empty() {
        sink(
            &target.account,
            &target.region,
            &target.group,
            stream,
            events,
        );
    }
}

/// The result of an invocation whose finishing task is gone (a panic, or
/// the server shutting down under it).
fn lost() -> Execution {
    Execution {
        result: InvokeResult::FunctionError(doc(
            "ServiceException",
            "the invocation ended without a result",
        )),
        content_type: None,
        log: Vec::new(),
        duration: Duration::ZERO,
    }
}
