//! POSTs to HTTP subscription endpoints, with the headers SNS sends.
//!
//! Outcomes: a 2xx answer is delivered; 429, 5xx, a refused connection or
//! no answer within 15 seconds are retried per the delivery policy; any
//! other answer (4xx) means the endpoint refuses the message (not retried).
//! Plain HTTP only: nimbus ships no TLS client, so Subscribe refuses
//! `https` endpoints instead of accepting deliveries it cannot make.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::endpoints::{Delivered, DeliveryError};

/// How long an endpoint may take to answer (AWS's delivery timeout).
const TIMEOUT: Duration = Duration::from_secs(15);

/// What SNS calls itself in requests to endpoints.
pub const USER_AGENT: &str = "Amazon Simple Notification Service Agent";

#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

/// One POST: the endpoint, SNS's `x-amz-sns-*` headers and the body.
#[derive(Debug, Clone, PartialEq)]
pub struct Post {
    pub url: String,
    pub content_type: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl HttpClient {
    pub async fn post(&self, post: Post) -> Delivered {
        let mut builder = http::Request::post(&post.url)
            .header(http::header::CONTENT_TYPE, &post.content_type)
            .header(http::header::USER_AGENT, USER_AGENT);
        for (name, value) in &post.headers {
            builder = builder.header(*name, value);
        }
        let request = builder
            .body(Full::new(Bytes::from(post.body)))
            .map_err(|e| DeliveryError::Client(format!("invalid endpoint {}: {e}", post.url)))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            // Read the answer so the connection can be reused.
            let _ = response.into_body().collect().await;
            Ok::<u16, String>(status)
        };
        match tokio::time::timeout(TIMEOUT, exchange).await {
            Err(_) => Err(DeliveryError::Server(format!(
                "{} did not answer within {TIMEOUT:?}",
                post.url
            ))),
            Ok(Err(e)) => Err(DeliveryError::Server(format!("{}: {e}", post.url))),
            Ok(Ok(status)) => classify(&post.url, status),
        }
    }
}

fn classify(url: &str, status: u16) -> Delivered {
    match status {
        200..=299 => Ok(()),
        429 | 500..=599 => Err(DeliveryError::Server(format!("{url} answered {status}"))),
        _ => Err(DeliveryError::Client(format!("{url} answered {status}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(classify("u", 204), Ok(()));
        assert!(matches!(classify("u", 503), Err(DeliveryError::Server(_))));
        assert!(matches!(classify("u", 429), Err(DeliveryError::Server(_))));
        assert!(matches!(classify("u", 404), Err(DeliveryError::Client(_))));
    }

    #[tokio::test]
    async fn posts_and_reports_refused_connections() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let client = HttpClient::default();
        let outcome = client
            .post(Post {
                url: format!("http://{addr}/hook"),
                content_type: "text/plain".into(),
                headers: vec![],
                body: "x".into(),
            })
            .await;
        assert!(
            matches!(outcome, Err(DeliveryError::Server(_))),
            "{outcome:?}"
        );
    }
}
