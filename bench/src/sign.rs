//! SigV4 signing of awsJson (DynamoDB, SQS) and restJson1 (Lambda) requests
//! with fixed, fake credentials.
//!
//! Servers under test run with relaxed auth, but real SDKs always sign, so the
//! generator signs too: a server that skipped parsing `Authorization` would
//! otherwise look faster than it is for real clients. Signing is the most
//! expensive thing the generator does per request (a SHA-256 of the body plus
//! a handful of HMACs), so callers pre-sign whatever they can reuse
//! (`workloads::dynamodb` pre-signs every read request once per run).

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderValue, Method};

/// The access key every request is signed with. Emulators accept any key; the
/// fixed one makes runs reproducible and obviously not a real secret.
const ACCESS_KEY_ID: &str = "AKIDNIMBUSBENCH00000";
const SECRET_ACCESS_KEY: &str = "nimbus-bench-fake-secret-key-not-a-real-one";
pub const REGION: &str = "us-east-1";

/// The awsJson 1.0 content type that DynamoDB (and SQS's JSON protocol) use.
pub const AWS_JSON_1_0: &str = "application/x-amz-json-1.0";
/// The content type of restJson1 request bodies (Lambda's control API and
/// Invoke payloads as the SDKs send them).
pub const REST_JSON: &str = "application/json";

/// A request ready to go on the wire: everything a connection needs to send
/// it, with header values already validated so sending never fails on them.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    pub method: Method,
    pub path: PathAndQuery,
    pub content_type: HeaderValue,
    /// `X-Amz-Target` for awsJson operations; restJson1 names the operation
    /// by method and path instead.
    pub target: Option<HeaderValue>,
    pub body: Bytes,
    pub authorization: HeaderValue,
    pub amz_date: HeaderValue,
}

/// Signs requests for one service at one endpoint.
pub struct Signer {
    identity: Identity,
    service: &'static str,
    /// `host[:port]`, exactly as sent in the Host header: it is part of the
    /// canonical request, so it must match byte for byte.
    host: String,
    /// `http://host[:port]`, to which request paths are appended.
    base_url: String,
}

#[derive(Debug)]
pub struct SignError(pub String);

impl std::fmt::Display for SignError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "signing failed: {}", self.0)
    }
}

impl std::error::Error for SignError {}

impl Signer {
    pub fn new(service: &'static str, host: &str) -> Self {
        let creds = Credentials::new(ACCESS_KEY_ID, SECRET_ACCESS_KEY, None, None, "nimbus-bench");
        Signer {
            identity: creds.into(),
            service,
            host: host.to_owned(),
            base_url: format!("http://{host}"),
        }
    }

    /// Signs a `POST /` awsJson request whose operation is named by `target`
    /// (e.g. `DynamoDB_20120810.GetItem`).
    pub fn sign(&self, target: &str, body: Bytes) -> Result<SignedRequest, SignError> {
        self.sign_at(target, body, SystemTime::now())
    }

    pub fn sign_at(
        &self,
        target: &str,
        body: Bytes,
        now: SystemTime,
    ) -> Result<SignedRequest, SignError> {
        self.sign_parts(Method::POST, "/", AWS_JSON_1_0, Some(target), body, now)
    }

    /// Signs a restJson1 request (`PUT /2015-03-31/functions/NAME/configuration`).
    /// `path` must already be percent-encoded where needed.
    pub fn sign_rest(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<SignedRequest, SignError> {
        self.sign_parts(method, path, REST_JSON, None, body, SystemTime::now())
    }

    fn sign_parts(
        &self,
        method: Method,
        path: &str,
        content_type: &'static str,
        target: Option<&str>,
        body: Bytes,
        now: SystemTime,
    ) -> Result<SignedRequest, SignError> {
        let err = |e: &dyn std::fmt::Display| SignError(e.to_string());
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
            .name(self.service)
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| err(&e))?
            .into();
        let mut headers = vec![("host", self.host.as_str()), ("content-type", content_type)];
        if let Some(t) = target {
            headers.push(("x-amz-target", t));
        }
        let url = format!("{}{}", self.base_url, path);
        let signable = SignableRequest::new(
            method.as_str(),
            &url,
            headers.into_iter(),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| err(&e))?;
        let (instructions, _signature) = sign(signable, &params).map_err(|e| err(&e))?.into_parts();
        let mut authorization = None;
        let mut amz_date = None;
        for (name, value) in instructions.headers() {
            let value = HeaderValue::from_str(value).map_err(|e| err(&e))?;
            match name {
                "authorization" => authorization = Some(value),
                "x-amz-date" => amz_date = Some(value),
                // No session token is used, so no other header is expected.
                _ => {}
            }
        }
        Ok(SignedRequest {
            method,
            path: PathAndQuery::try_from(path).map_err(|e| err(&e))?,
            content_type: HeaderValue::from_static(content_type),
            target: target
                .map(HeaderValue::from_str)
                .transpose()
                .map_err(|e| err(&e))?,
            body,
            authorization: authorization
                .ok_or_else(|| SignError("no authorization header".into()))?,
            amz_date: amz_date.ok_or_else(|| SignError("no x-amz-date header".into()))?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_names_the_service_region_and_signed_headers() {
        let signer = Signer::new("dynamodb", "127.0.0.1:4566");
        let req = signer
            .sign("DynamoDB_20120810.ListTables", Bytes::from_static(b"{}"))
            .unwrap();
        let auth = req.authorization.to_str().unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDNIMBUSBENCH00000/"),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/dynamodb/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-target"),
            "{auth}"
        );
        assert_eq!(req.method, Method::POST);
        assert_eq!(req.path.as_str(), "/");
    }

    #[test]
    fn rest_requests_sign_their_method_and_path_without_a_target() {
        let signer = Signer::new("lambda", "127.0.0.1:4566");
        let req = signer
            .sign_rest(
                Method::PUT,
                "/2015-03-31/functions/f/configuration",
                Bytes::from_static(b"{}"),
            )
            .unwrap();
        let auth = req.authorization.to_str().unwrap();
        assert!(auth.contains("/us-east-1/lambda/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=content-type;host;x-amz-date,"),
            "{auth}"
        );
        assert!(req.target.is_none());
        assert_eq!(req.path.as_str(), "/2015-03-31/functions/f/configuration");
        assert_eq!(req.content_type, REST_JSON);
    }
}
