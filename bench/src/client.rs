//! One keep-alive HTTP/1.1 connection per virtual client, and the
//! classification of every response into an [`Outcome`].
//!
//! hyper's low-level `client::conn` is used instead of a pooled client so that
//! "64 connections" means exactly 64 TCP connections, each carrying one
//! request at a time, which is what an SDK with a connection pool does under
//! load.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::sign::SignedRequest;

/// A server to send requests to. Only loopback addresses are accepted: the
/// benchmark exists to load servers on this machine and nowhere else.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub addr: SocketAddr,
    /// `host:port` for the Host header and the SigV4 canonical request.
    pub host: String,
    host_header: HeaderValue,
}

impl Endpoint {
    /// Parses `http://HOST:PORT[/]` and refuses anything not on loopback.
    pub fn parse(url: &str) -> Result<Endpoint, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("endpoint {url:?}: only http:// endpoints are supported"))?;
        let host = rest.trim_end_matches('/');
        if host.contains('/') {
            return Err(format!("endpoint {url:?}: a path is not supported"));
        }
        let addrs: Vec<SocketAddr> = host
            .to_socket_addrs()
            .map_err(|e| format!("endpoint {url:?}: {e} (expected http://127.0.0.1:PORT)"))?
            .collect();
        let addr = addrs
            .iter()
            .copied()
            .find(|a| is_loopback(a.ip()))
            .ok_or_else(|| {
                format!("endpoint {url:?} is not a loopback address; refusing to send load to it")
            })?;
        Ok(Endpoint::loopback(addr, host))
    }

    pub fn from_addr(addr: SocketAddr) -> Endpoint {
        assert!(
            is_loopback(addr.ip()),
            "benchmark endpoints are loopback only"
        );
        Endpoint::loopback(addr, &addr.to_string())
    }

    fn loopback(addr: SocketAddr, host: &str) -> Endpoint {
        Endpoint {
            addr,
            host: host.to_owned(),
            host_header: HeaderValue::from_str(host).expect("host:port is a valid header value"),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    ip.is_loopback()
}

/// What one request came back as. Everything that is not `Ok` is counted as
/// an error, by its type.
#[derive(Debug)]
pub enum Outcome {
    /// HTTP 2xx with its body; the workload still checks the body is right.
    Ok(Bytes),
    /// A non-200 response. `error_type` is the awsJson `__type` without its
    /// namespace (`ResourceNotFoundException`), or `HTTP <status>` when the
    /// body names none.
    Aws {
        status: u16,
        error_type: String,
        body: Bytes,
    },
    /// The server had closed the connection before this request was sent
    /// (e.g. it answered the previous one with `Connection: close`, as
    /// moto's werkzeug server does). Nothing was sent: reconnect and resend.
    ClosedBeforeSend,
    /// The connection failed or closed mid-request, or the request timed
    /// out. The connection must be replaced.
    Transport(&'static str),
}

/// One open keep-alive connection.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    endpoint: Endpoint,
}

impl Connection {
    pub async fn open(endpoint: &Endpoint) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(endpoint.addr).await?;
        // Requests are small and latency is the measurement: never let Nagle
        // hold a request back waiting for an ACK.
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(std::io::Error::other)?;
        // The connection task ends when the sender is dropped or the peer
        // closes, so it never outlives the run.
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Connection {
            sender,
            endpoint: endpoint.clone(),
        })
    }

    /// Sends one request and reads its whole body, bounded by `timeout`.
    pub async fn send(&mut self, req: &SignedRequest, timeout: Duration) -> Outcome {
        match tokio::time::timeout(timeout, self.send_inner(req)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Transport("timeout"),
        }
    }

    async fn send_inner(&mut self, req: &SignedRequest) -> Outcome {
        if self.sender.ready().await.is_err() {
            return Outcome::ClosedBeforeSend;
        }
        let mut builder = Request::builder()
            .method(req.method.clone())
            .uri(req.path.clone())
            .header(http::header::HOST, self.endpoint.host_header.clone())
            .header(http::header::CONTENT_TYPE, req.content_type.clone());
        if let Some(target) = &req.target {
            builder = builder.header("x-amz-target", target.clone());
        }
        let request = builder
            .header("x-amz-date", req.amz_date.clone())
            .header(http::header::AUTHORIZATION, req.authorization.clone())
            .body(Full::new(req.body.clone()))
            .expect("request parts are pre-validated");
        let response = match self.sender.send_request(request).await {
            Ok(r) => r,
            Err(e) if e.is_closed() || e.is_incomplete_message() => {
                return Outcome::Transport("connection closed")
            }
            Err(_) => return Outcome::Transport("request failed"),
        };
        let status = response.status().as_u16();
        let header_type = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let function_error = response.headers().contains_key("x-amz-function-error");
        let body = match response.into_body().collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return Outcome::Transport("body read failed"),
        };
        if status == 200 && function_error {
            // Lambda Invoke: the function failed (a 200 whose body is the
            // error document). An error, named after the function's errorType.
            return Outcome::Aws {
                status,
                error_type: function_error_type(&body),
                body,
            };
        }
        // restJson1 operations answer 201 (CreateFunction), 202 or 204.
        if (200..300).contains(&status) {
            return Outcome::Ok(body);
        }
        let error_type = aws_error_type(&body)
            .or(header_type.map(|t| strip_error_type(&t).to_owned()))
            .unwrap_or_else(|| format!("HTTP {status}"));
        Outcome::Aws {
            status,
            error_type,
            body,
        }
    }
}

/// Extracts the error name from an awsJson error body. AWS sends
/// `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`; SDKs keep
/// only the part after `#`, and so does the report.
pub fn aws_error_type(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct ErrorBody<'a> {
        #[serde(rename = "__type", borrow)]
        error_type: Option<std::borrow::Cow<'a, str>>,
    }
    let parsed: ErrorBody = serde_json::from_slice(body).ok()?;
    parsed.error_type.map(|t| strip_error_type(&t).to_owned())
}

/// `FunctionError (Runtime.ImportModuleError)`: Lambda's error document
/// names its type in `errorType`.
fn function_error_type(body: &[u8]) -> String {
    #[derive(serde::Deserialize)]
    struct ErrorDoc<'a> {
        #[serde(rename = "errorType", borrow)]
        error_type: Option<std::borrow::Cow<'a, str>>,
    }
    match serde_json::from_slice::<ErrorDoc>(body) {
        Ok(ErrorDoc {
            error_type: Some(t),
        }) => format!("FunctionError ({t})"),
        _ => "FunctionError".into(),
    }
}

fn strip_error_type(t: &str) -> &str {
    let t = t.rsplit('#').next().unwrap_or(t);
    // restJson services append `:http://internal.amazon.com/...` to the header form.
    t.split(':').next().unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_type_drops_the_namespace() {
        let body = br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"x"}"#;
        assert_eq!(
            aws_error_type(body).as_deref(),
            Some("ResourceNotFoundException")
        );
        assert_eq!(
            aws_error_type(br#"{"__type":"UnknownOperationException"}"#).as_deref(),
            Some("UnknownOperationException")
        );
        assert_eq!(aws_error_type(b"<html>"), None);
    }

    #[test]
    fn function_errors_are_named_by_their_error_type() {
        assert_eq!(
            function_error_type(br#"{"errorType":"Sandbox.Timedout","errorMessage":"x"}"#),
            "FunctionError (Sandbox.Timedout)"
        );
        assert_eq!(function_error_type(b"oops"), "FunctionError");
    }

    #[test]
    fn only_loopback_endpoints_are_accepted() {
        assert!(Endpoint::parse("http://127.0.0.1:4566").is_ok());
        assert!(Endpoint::parse("http://localhost:4566/").is_ok());
        assert!(Endpoint::parse("http://10.0.0.1:4566").is_err());
        assert!(Endpoint::parse("https://127.0.0.1:4566").is_err());
    }
}
