//! The AWS wire protocols, with no knowledge of any service's semantics.
//!
//! A request arrives as HTTP; this crate tells which service and operation it
//! names ([`route`]), who signed it ([`sigv4`], [`identity`]), frames awsJson
//! responses and errors ([`json`], [`error`]), frames awsQuery XML ([`xml`],
//! [`form`], [`query`]) and names each response
//! ([`request_id`]). Services receive plain bytes plus a [`RequestContext`] and
//! answer with bytes or an [`AwsError`].

pub mod error;
pub mod form;
pub mod identity;
pub mod json;
pub mod query;
pub mod request_id;
pub mod rest;
pub mod route;
pub mod signature;
pub mod sigv4;
pub mod xml;

pub use error::AwsError;

/// Header names the wire layer reads or writes (lower case, as HTTP/2 needs).
pub mod headers {
    /// Names the awsJson operation: `DynamoDB_20120810.PutItem`.
    pub const TARGET: &str = "x-amz-target";
    /// Request id on every response.
    pub const REQUEST_ID: &str = "x-amzn-requestid";
    /// CRC32 of the response body (DynamoDB).
    pub const CRC32: &str = "x-amz-crc32";
    /// Legacy query error code and fault of an awsQuery-compatible JSON
    /// error (SQS): `AWS.SimpleQueueService.NonExistentQueue;Sender`.
    pub const QUERY_ERROR: &str = "x-amzn-query-error";
    /// SigV4 timestamp.
    pub const AMZ_DATE: &str = "x-amz-date";
    /// Session token of temporary credentials.
    pub const SECURITY_TOKEN: &str = "x-amz-security-token";
}

/// Who is calling and where: taken from the SigV4 credential scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// Access key id from the credential scope.
    pub access_key: String,
    /// Account the caller acts in (default `000000000000`).
    pub account_id: String,
    /// Region from the credential scope, or the server's default region.
    pub region: String,
    /// The `x-amzn-RequestId` given to this request.
    pub request_id: String,
    /// The address the client used to reach nimbus (`Host` header or h2
    /// authority), for URLs and endpoints the response names.
    pub host: Option<String>,
}

impl RequestContext {
    /// A context for in-process callers and unit tests.
    pub fn local(region: &str) -> Self {
        RequestContext {
            access_key: "local".into(),
            account_id: identity::DEFAULT_ACCOUNT_ID.into(),
            region: region.into(),
            request_id: String::new(),
            host: None,
        }
    }

    /// The context of a signed request: account from the access key, region
    /// from the credential scope unless it is empty.
    pub fn from_scope(
        scope: &sigv4::CredentialScope,
        default_region: &str,
        request_id: String,
    ) -> Self {
        let region = if scope.region.is_empty() {
            default_region
        } else {
            &scope.region
        };
        RequestContext {
            access_key: scope.access_key.clone(),
            account_id: identity::account_id_for(&scope.access_key).into(),
            region: region.into(),
            request_id,
            host: None,
        }
    }
}
