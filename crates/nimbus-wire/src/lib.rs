//! The AWS wire protocols, with no knowledge of any service's semantics.
//!
//! A request arrives as HTTP; this crate tells which service and operation it
//! names ([`route`]), who sent it ([`identity`]), decodes and encodes the
//! awsJson bodies ([`json`]) and renders errors in each protocol's shape
//! ([`error`]). Services receive plain bytes plus a [`RequestContext`] and answer
//! with bytes or an [`AwsError`].

pub mod error;

pub use error::AwsError;

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
}

impl RequestContext {
    /// A context for in-process callers and unit tests.
    pub fn local(region: &str) -> Self {
        RequestContext {
            access_key: "local".into(),
            account_id: "000000000000".into(),
            region: region.into(),
            request_id: String::new(),
        }
    }
}
