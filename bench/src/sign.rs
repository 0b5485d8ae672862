//! SigV4 signing of awsJson requests with fixed, fake credentials.
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
use http::HeaderValue;

/// The access key every request is signed with. Emulators accept any key; the
/// fixed one makes runs reproducible and obviously not a real secret.
const ACCESS_KEY_ID: &str = "AKIDNIMBUSBENCH00000";
const SECRET_ACCESS_KEY: &str = "nimbus-bench-fake-secret-key-not-a-real-one";
pub const REGION: &str = "us-east-1";

/// The awsJson 1.0 content type that DynamoDB (and SQS's JSON protocol) use.
pub const AWS_JSON_1_0: &str = "application/x-amz-json-1.0";

/// A request ready to go on the wire: everything a connection needs to send
/// it, with header values already validated so sending never fails on them.
#[derive(Clone, Debug)]
pub struct SignedRequest {
    pub target: HeaderValue,
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
    url: String,
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
            url: format!("http://{host}/"),
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
        let params = v4::SigningParams::builder()
            .identity(&self.identity)
            .region(REGION)
            .name(self.service)
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| SignError(e.to_string()))?
            .into();
        let headers = [
            ("host", self.host.as_str()),
            ("content-type", AWS_JSON_1_0),
            ("x-amz-target", target),
        ];
        let signable = SignableRequest::new(
            "POST",
            &self.url,
            headers.into_iter(),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| SignError(e.to_string()))?;
        let (instructions, _signature) = sign(signable, &params)
            .map_err(|e| SignError(e.to_string()))?
            .into_parts();
        let mut authorization = None;
        let mut amz_date = None;
        for (name, value) in instructions.headers() {
            let value = HeaderValue::from_str(value).map_err(|e| SignError(e.to_string()))?;
            match name {
                "authorization" => authorization = Some(value),
                "x-amz-date" => amz_date = Some(value),
                // No session token is used, so no other header is expected.
                _ => {}
            }
        }
        Ok(SignedRequest {
            target: HeaderValue::from_str(target).map_err(|e| SignError(e.to_string()))?,
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
    }
}
