//! SigV4 identity: who signed a request and for which region and service.
//!
//! This module only *parses* the signature (from the `Authorization` header or
//! a presigned query string). It keeps every piece a verifier needs (signed
//! header names, the signature, `X-Amz-Date`, the security token) so that
//! `--auth strict` can later rebuild the canonical request and compare HMACs
//! without re-parsing anything.
//!
//! Error texts follow what DynamoDB's front end answers, because SDK users see
//! them verbatim in exceptions.

use crate::error::AwsError;
use crate::form;

/// The only signing algorithm AWS accepts for SigV4.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What a request carries that may hold SigV4 credentials. Borrowed from the
/// HTTP request so parsing allocates only for the parts it keeps.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthInput<'a> {
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The raw (still percent-encoded) query string, without `?`.
    pub query: Option<&'a str>,
    /// The `X-Amz-Date` header.
    pub amz_date: Option<&'a str>,
    /// The `Date` header (accepted instead of `X-Amz-Date`).
    pub date: Option<&'a str>,
    /// The `X-Amz-Security-Token` header (temporary credentials).
    pub security_token: Option<&'a str>,
}

/// Where the signature was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthLocation {
    /// `Authorization: AWS4-HMAC-SHA256 ...`
    Header,
    /// Presigned URL: `?X-Amz-Algorithm=...&X-Amz-Credential=...`
    Query,
}

/// The credential scope: `AKID/YYYYMMDD/region/service/aws4_request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    pub access_key: String,
    /// `YYYYMMDD`, as sent (not validated yet).
    pub date: String,
    pub region: String,
    /// The signing name of the service, e.g. `dynamodb`, `sqs`, `states`.
    pub service: String,
    /// Always `aws4_request` for a valid signature; kept for verification.
    pub terminator: String,
}

/// A parsed SigV4 signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigV4 {
    pub location: AuthLocation,
    pub scope: CredentialScope,
    /// Lower-case header names in the order signed (`host;x-amz-date;...`).
    pub signed_headers: Vec<String>,
    /// Hex signature as sent.
    pub signature: String,
    /// `X-Amz-Date` (header or query) or, failing that, the `Date` header.
    pub amz_date: Option<String>,
    /// `X-Amz-Security-Token`, header or query.
    pub security_token: Option<String>,
}

/// Parses SigV4 credentials from a request.
///
/// Returns `Ok(None)` when the request carries no AWS credentials at all, so
/// the caller decides whether that is an error (it is for AWS APIs, not for
/// `/_nimbus`). An `Authorization` header that is not AWS SigV4 at all also
/// counts as "no credentials", as it does for DynamoDB.
pub fn parse(input: &AuthInput<'_>) -> Result<Option<SigV4>, AwsError> {
    let presigned = input
        .query
        .is_some_and(|q| form::get(q, "X-Amz-Algorithm").is_some());
    match (input.authorization, presigned) {
        (Some(_), true) => Err(AwsError::invalid_signature(
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        )),
        (Some(header), false) => parse_header(header, input),
        (None, true) => parse_query(input.query.unwrap_or_default(), input).map(Some),
        (None, false) => Ok(None),
    }
}

fn parse_header(header: &str, input: &AuthInput<'_>) -> Result<Option<SigV4>, AwsError> {
    let header = header.trim();
    if !header.starts_with("AWS4-") {
        return Ok(None);
    }
    let (algorithm, rest) = header
        .split_once(char::is_whitespace)
        .unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(unsupported_algorithm(algorithm));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return Err(AwsError::incomplete_signature(format!(
                "'{part}' not a valid key=value pair (missing equal-sign) in Authorization header: '{header}'."
            )));
        };
        match key.trim() {
            "Credential" => credential = Some(value.trim()),
            "SignedHeaders" => signed_headers = Some(value.trim()),
            "Signature" => signature = Some(value.trim()),
            // Unknown keys are ignored, as AWS does.
            _ => {}
        }
    }
    let date = input.amz_date.or(input.date);

    let mut missing = String::new();
    for (name, value) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed_headers),
    ] {
        if value.is_none_or(str::is_empty) {
            missing.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if date.is_none() {
        missing.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !missing.is_empty() {
        return Err(AwsError::incomplete_signature(format!(
            "{missing}Authorization={header}"
        )));
    }

    Ok(Some(SigV4 {
        location: AuthLocation::Header,
        scope: parse_scope(credential.unwrap_or_default())?,
        signed_headers: split_signed_headers(signed_headers.unwrap_or_default()),
        signature: signature.unwrap_or_default().to_owned(),
        amz_date: date.map(str::to_owned),
        security_token: input.security_token.map(str::to_owned),
    }))
}

fn parse_query(query: &str, input: &AuthInput<'_>) -> Result<SigV4, AwsError> {
    const REQUIRED: [&str; 5] = [
        "X-Amz-Algorithm",
        "X-Amz-Credential",
        "X-Amz-Signature",
        "X-Amz-SignedHeaders",
        "X-Amz-Date",
    ];
    let mut values: [Option<String>; 5] = Default::default();
    let mut security_token = input.security_token.map(str::to_owned);
    for (name, value) in form::pairs(query) {
        if let Some(i) = REQUIRED.iter().position(|r| *r == name) {
            values[i].get_or_insert(value);
        } else if name == "X-Amz-Security-Token" && security_token.is_none() {
            security_token = Some(value);
        }
    }

    let missing: String = REQUIRED
        .iter()
        .zip(&values)
        .filter(|(_, v)| v.as_deref().is_none_or(str::is_empty))
        .map(|(name, _)| format!("AWS query-string parameters must include '{name}'. "))
        .collect();
    if !missing.is_empty() {
        return Err(AwsError::incomplete_signature(format!(
            "{missing}Re-examine the query-string parameters."
        )));
    }
    let [algorithm, credential, signature, signed_headers, date] =
        values.map(Option::unwrap_or_default);
    if algorithm != ALGORITHM {
        return Err(unsupported_algorithm(&algorithm));
    }
    Ok(SigV4 {
        location: AuthLocation::Query,
        scope: parse_scope(&credential)?,
        signed_headers: split_signed_headers(&signed_headers),
        signature,
        amz_date: Some(date),
        security_token,
    })
}

/// Splits `AKID/date/region/service/aws4_request`. Trailing slashes are
/// ignored, as AWS ignores them.
fn parse_scope(credential: &str) -> Result<CredentialScope, AwsError> {
    let trimmed = credential.trim_end_matches('/');
    let parts: Vec<&str> = trimmed.split('/').collect();
    let [access_key, date, region, service, terminator] = parts[..] else {
        return Err(AwsError::incomplete_signature(format!(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{trimmed}'"
        )));
    };
    if access_key.is_empty() {
        return Err(AwsError::incomplete_signature(format!(
            "Credential must contain an access key id, got '{trimmed}'"
        )));
    }
    Ok(CredentialScope {
        access_key: access_key.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        terminator: terminator.to_owned(),
    })
}

fn split_signed_headers(list: &str) -> Vec<String> {
    list.split(';')
        .filter(|h| !h.is_empty())
        .map(|h| h.trim().to_ascii_lowercase())
        .collect()
}

fn unsupported_algorithm(algorithm: &str) -> AwsError {
    AwsError::incomplete_signature(format!(
        "Unsupported AWS 'algorithm': '{algorithm}' (only {ALGORITHM} for now)."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-west-2/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";

    fn header_input(auth: &str) -> AuthInput<'_> {
        AuthInput {
            authorization: Some(auth),
            amz_date: Some("20150830T123600Z"),
            ..AuthInput::default()
        }
    }

    #[test]
    fn no_credentials_is_none() {
        assert_eq!(parse(&AuthInput::default()), Ok(None));
        let query_without_sig = AuthInput {
            query: Some("a=1"),
            ..AuthInput::default()
        };
        assert_eq!(parse(&query_without_sig), Ok(None));
    }

    #[test]
    fn non_sigv4_authorization_is_treated_as_missing() {
        assert_eq!(parse(&header_input("Bearer abc")), Ok(None));
        assert_eq!(parse(&header_input("")), Ok(None));
    }

    #[test]
    fn parses_sdk_header() {
        let sig = parse(&header_input(HEADER)).unwrap().unwrap();
        assert_eq!(sig.location, AuthLocation::Header);
        assert_eq!(
            sig.scope,
            CredentialScope {
                access_key: "AKIDEXAMPLE".into(),
                date: "20150830".into(),
                region: "us-west-2".into(),
                service: "dynamodb".into(),
                terminator: "aws4_request".into(),
            }
        );
        assert_eq!(
            sig.signed_headers,
            ["content-type", "host", "x-amz-date", "x-amz-target"]
        );
        assert!(sig.signature.starts_with("5d672d79"));
        assert_eq!(sig.amz_date.as_deref(), Some("20150830T123600Z"));
    }

    #[test]
    fn tolerates_no_spaces_and_trailing_slash() {
        let auth = "AWS4-HMAC-SHA256 Credential=AK/20150830/eu-west-1/sqs/aws4_request/,SignedHeaders=host,Signature=ab";
        let sig = parse(&header_input(auth)).unwrap().unwrap();
        assert_eq!(sig.scope.service, "sqs");
        assert_eq!(sig.scope.region, "eu-west-1");
        assert_eq!(sig.signed_headers, ["host"]);
    }

    #[test]
    fn missing_components_listed_like_aws() {
        let auth = "AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/dynamodb/aws4_request";
        let input = AuthInput {
            authorization: Some(auth),
            ..AuthInput::default()
        };
        let err = parse(&input).unwrap_err();
        assert_eq!(err.code, "IncompleteSignatureException");
        assert_eq!(err.status, 400);
        assert_eq!(
            err.message,
            format!(
                "Authorization header requires 'Signature' parameter. \
                 Authorization header requires 'SignedHeaders' parameter. \
                 Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. \
                 Authorization={auth}"
            )
        );
    }

    #[test]
    fn missing_equal_sign() {
        let err = parse(&header_input("AWS4-HMAC-SHA256 Credential, Signature=a")).unwrap_err();
        assert_eq!(err.code, "IncompleteSignatureException");
        assert!(err
            .message
            .starts_with("'Credential' not a valid key=value pair"));
    }

    #[test]
    fn wrong_algorithm_and_bad_scope() {
        let err = parse(&header_input("AWS4-HMAC-SHA1 Credential=a/b/c/d/e")).unwrap_err();
        assert!(err
            .message
            .starts_with("Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA1'"));

        let auth = "AWS4-HMAC-SHA256 Credential=a/b/c/d, SignedHeaders=host, Signature=x";
        let err = parse(&header_input(auth)).unwrap_err();
        assert_eq!(err.code, "IncompleteSignatureException");
        assert_eq!(
            err.message,
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'a/b/c/d'"
        );
    }

    #[test]
    fn parses_presigned_query() {
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK%2F20240101%2Fap-south-1%2Flambda%2Faws4_request\
                     &X-Amz-Date=20240101T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abc\
                     &X-Amz-Security-Token=tok%2B";
        let input = AuthInput {
            query: Some(query),
            ..AuthInput::default()
        };
        let sig = parse(&input).unwrap().unwrap();
        assert_eq!(sig.location, AuthLocation::Query);
        assert_eq!(sig.scope.access_key, "AK");
        assert_eq!(sig.scope.region, "ap-south-1");
        assert_eq!(sig.scope.service, "lambda");
        assert_eq!(sig.amz_date.as_deref(), Some("20240101T000000Z"));
        assert_eq!(sig.security_token.as_deref(), Some("tok+"));
    }

    #[test]
    fn presigned_missing_params() {
        let input = AuthInput {
            query: Some("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc"),
            ..AuthInput::default()
        };
        let err = parse(&input).unwrap_err();
        assert_eq!(
            err.message,
            "AWS query-string parameters must include 'X-Amz-Credential'. \
             AWS query-string parameters must include 'X-Amz-SignedHeaders'. \
             AWS query-string parameters must include 'X-Amz-Date'. \
             Re-examine the query-string parameters."
        );
    }

    #[test]
    fn header_and_query_together_rejected() {
        let input = AuthInput {
            authorization: Some(HEADER),
            query: Some("X-Amz-Algorithm=AWS4-HMAC-SHA256"),
            amz_date: Some("20150830T123600Z"),
            ..AuthInput::default()
        };
        assert_eq!(parse(&input).unwrap_err().code, "InvalidSignatureException");
    }

    #[test]
    fn garbage_never_panics() {
        for auth in [
            "AWS4-",
            "AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256 ,,,,",
            "AWS4-HMAC-SHA256 Credential=, SignedHeaders=, Signature=",
            "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;, Signature=x",
            "AWS4-HMAC-SHA256 =,=,=",
            "AWS4-HMAC-SHA256 Credential=é/é/é/é/é, SignedHeaders=h, Signature=s",
        ] {
            let _ = parse(&header_input(auth));
        }
    }
}
