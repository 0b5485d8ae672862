//! One-off awsJson and restJson1 calls for setup, teardown and readiness
//! probes: table, queue and function creation, seeding, read-back checks.
//! Not on the measured path, so it favours clear errors over speed.

use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use http::Method;

use crate::client::{Connection, Endpoint, Outcome};
use crate::sign::{SignedRequest, Signer};

/// An AWS error, or a transport failure described as one.
#[derive(Clone, Debug)]
pub struct ApiError {
    pub error_type: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error_type, self.message)
    }
}

/// Error types that mean "this server does not implement the operation", as
/// sent by AWS (`UnknownOperationException`) and by emulators that borrowed
/// other services' names for it.
pub fn means_unsupported(error_type: &str) -> bool {
    matches!(
        error_type,
        "UnknownOperationException"
            | "NotImplemented"
            | "NotImplementedException"
            | "UnsupportedOperation"
            | "UnsupportedOperationException"
            | "InvalidAction"
            | "HTTP 501"
    )
}

pub struct Api {
    endpoint: Endpoint,
    signer: Signer,
    target_prefix: &'static str,
    conn: Option<Connection>,
    timeout: Duration,
}

impl Api {
    pub fn dynamodb(endpoint: &Endpoint) -> Api {
        Api::new(endpoint, "dynamodb", "DynamoDB_20120810")
    }

    pub fn sqs(endpoint: &Endpoint) -> Api {
        Api::new(endpoint, "sqs", "AmazonSQS")
    }

    /// Lambda is restJson1: use [`Api::rest`], not [`Api::call`].
    pub fn lambda(endpoint: &Endpoint) -> Api {
        Api::new(endpoint, "lambda", "")
    }

    fn new(endpoint: &Endpoint, service: &'static str, target_prefix: &'static str) -> Api {
        Api {
            endpoint: endpoint.clone(),
            signer: Signer::new(service, &endpoint.host),
            target_prefix,
            conn: None,
            timeout: Duration::from_secs(60),
        }
    }

    /// A restJson1 call (`POST /2015-03-31/functions`), JSON in and out; an
    /// empty answer (204) reads as `null`.
    pub async fn rest(
        &mut self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, ApiError> {
        let body = Bytes::from(serde_json::to_vec(body).expect("JSON values serialize"));
        let signer = &self.signer;
        let answer = Self::send(&self.endpoint, &mut self.conn, self.timeout, || {
            signer.sign_rest(method.clone(), path, body.clone())
        })
        .await?;
        if answer.is_empty() {
            return Ok(Value::Null);
        }
        parse_json(&answer)
    }

    /// Calls `operation` with a JSON body. Transport failures are retried on
    /// a fresh connection a few times (setup runs right after a server
    /// starts, and some peers close idle connections).
    pub async fn call(&mut self, operation: &str, body: &Value) -> Result<Value, ApiError> {
        let body = Bytes::from(serde_json::to_vec(body).expect("JSON values serialize"));
        self.call_raw(operation, body)
            .await
            .and_then(|b| parse_json(&b))
    }

    pub async fn call_raw(&mut self, operation: &str, body: Bytes) -> Result<Bytes, ApiError> {
        let target = format!("{}.{operation}", self.target_prefix);
        let signer = &self.signer;
        Self::send(&self.endpoint, &mut self.conn, self.timeout, || {
            signer.sign(&target, body.clone())
        })
        .await
    }

    async fn send(
        endpoint: &Endpoint,
        conn: &mut Option<Connection>,
        timeout: Duration,
        sign: impl Fn() -> Result<SignedRequest, crate::sign::SignError>,
    ) -> Result<Bytes, ApiError> {
        let mut last = None;
        let mut backoff = false;
        for attempt in 0..4u32 {
            // A connection the server closed after the last answer is simply
            // replaced; only real failures wait before retrying.
            if backoff {
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
            }
            backoff = true;
            let request = sign().map_err(|e| ApiError {
                error_type: "SigningFailed".into(),
                message: e.to_string(),
            })?;
            if conn.is_none() {
                match Connection::open(endpoint).await {
                    Ok(c) => *conn = Some(c),
                    Err(e) => {
                        last = Some(ApiError {
                            error_type: "transport: connect failed".into(),
                            message: e.to_string(),
                        });
                        continue;
                    }
                }
            }
            match conn
                .as_mut()
                .expect("connected above")
                .send(&request, timeout)
                .await
            {
                Outcome::Ok(b) => return Ok(b),
                Outcome::Aws {
                    error_type, body, ..
                } => {
                    let message = serde_json::from_slice::<Value>(&body)
                        .ok()
                        .and_then(|v| {
                            v.get("message")
                                .or_else(|| v.get("Message"))
                                .and_then(Value::as_str)
                                .map(str::to_owned)
                        })
                        .unwrap_or_else(|| {
                            String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned()
                        });
                    return Err(ApiError {
                        error_type,
                        message,
                    });
                }
                Outcome::ClosedBeforeSend => {
                    *conn = None;
                    backoff = false;
                    last = Some(ApiError {
                        error_type: "transport: connection closed".into(),
                        message: String::new(),
                    });
                }
                Outcome::Transport(kind) => {
                    *conn = None;
                    last = Some(ApiError {
                        error_type: format!("transport: {kind}"),
                        message: String::new(),
                    });
                }
            }
        }
        Err(last.expect("at least one attempt ran"))
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError {
        error_type: "InvalidJsonResponse".into(),
        message: e.to_string(),
    })
}
