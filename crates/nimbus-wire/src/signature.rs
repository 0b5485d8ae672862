//! SigV4 verification, for `--auth strict`: rebuilds the canonical request
//! from what arrived, derives the signing key from the secret of the access
//! key that signed, and compares signatures in constant time.
//!
//! The steps are AWS's (Signature Version 4, "Create a canonical request"):
//! canonical URI (each path segment URI-encoded once more, as every service
//! but S3 signs it), canonical query (decoded, strictly re-encoded, sorted,
//! without `X-Amz-Signature`), canonical headers (the signed ones, values
//! trimmed and inner spaces collapsed), the signed header list, and the
//! payload hash (`X-Amz-Content-Sha256` when sent, `UNSIGNED-PAYLOAD` for
//! presigned URLs, else the SHA-256 of the body).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use http::HeaderMap;
use sha2::{Digest, Sha256};

use crate::error::{AwsError, CORAL_NAMESPACE};
use crate::form;
use crate::sigv4::{AuthLocation, SigV4, ALGORITHM};

/// How far a signed request's time may be from the server's (AWS: 15 min).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// Access keys and their secrets.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    secrets: HashMap<String, String>,
}

impl Credentials {
    /// Parses `AKID:SECRET[,AKID:SECRET...]`.
    pub fn parse(spec: &str) -> Result<Credentials, String> {
        let mut secrets = HashMap::new();
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, secret)) = pair.split_once(':') else {
                return Err(format!("'{pair}' is not ACCESS_KEY_ID:SECRET_ACCESS_KEY"));
            };
            if key.is_empty() || secret.is_empty() {
                return Err(format!("'{pair}' has an empty access key or secret"));
            }
            secrets.insert(key.to_owned(), secret.to_owned());
        }
        Ok(Credentials { secrets })
    }

    /// One access key and its secret (the lowest key, so the choice is
    /// stable), for callers that need a valid pair to hand on.
    pub fn first(&self) -> Option<(String, String)> {
        self.secrets
            .iter()
            .min_by(|a, b| a.0.cmp(b.0))
            .map(|(k, v)| (k.clone(), v.clone()))
    }

    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    fn secret(&self, access_key: &str) -> Option<&str> {
        self.secrets.get(access_key).map(String::as_str)
    }
}

/// The parts of a request a signature covers.
pub struct Signed<'a> {
    pub method: &'a str,
    /// The path as sent (still percent-encoded).
    pub path: &'a str,
    /// The query string as sent, without `?`.
    pub query: Option<&'a str>,
    pub headers: &'a HeaderMap,
    /// The authority, for a signed `host` when the request has no Host
    /// header (HTTP/2 sends `:authority` instead).
    pub authority: Option<&'a str>,
    pub body: &'a [u8],
}

/// Checks a parsed signature against the request it came with.
pub fn verify(
    sig: &SigV4,
    credentials: &Credentials,
    request: &Signed<'_>,
    now: SystemTime,
) -> Result<(), AwsError> {
    let Some(secret) = credentials.secret(&sig.scope.access_key) else {
        return Err(AwsError::new(
            400,
            CORAL_NAMESPACE,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };
    let amz_date = sig.amz_date.as_deref().unwrap_or_default();
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        AwsError::incomplete_signature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    })?;
    check_time(sig, request, signed_at, amz_date, now)?;
    if !amz_date.starts_with(&sig.scope.date) {
        return Err(AwsError::invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{amz_date}'.",
            sig.scope.date,
            amz_date.get(..8).unwrap_or(amz_date)
        )));
    }

    let canonical = canonical_request(sig, request);
    let scope = format!(
        "{}/{}/{}/{}",
        sig.scope.date, sig.scope.region, sig.scope.service, sig.scope.terminator
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{secret}").as_bytes(),
        sig.scope.date.as_bytes(),
    );
    for part in [&sig.scope.region, &sig.scope.service, &sig.scope.terminator] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    if !constant_time_eq(
        expected.as_bytes(),
        sig.signature.to_ascii_lowercase().as_bytes(),
    ) {
        return Err(AwsError::invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(())
}

fn check_time(
    sig: &SigV4,
    request: &Signed<'_>,
    signed_at: SystemTime,
    amz_date: &str,
    now: SystemTime,
) -> Result<(), AwsError> {
    match sig.location {
        AuthLocation::Header => {
            let skew = now
                .duration_since(signed_at)
                .or_else(|e| Ok::<_, ()>(e.duration()))
                .unwrap_or_default();
            if skew > MAX_SKEW {
                let earliest = format_amz_date(now - MAX_SKEW);
                return Err(AwsError::invalid_signature(format!(
                    "Signature expired: {amz_date} is now earlier than {earliest} ({} - 15 min.)",
                    format_amz_date(now)
                )));
            }
        }
        AuthLocation::Query => {
            let expires = request
                .query
                .and_then(|q| form::get(q, "X-Amz-Expires"))
                .and_then(|e| e.parse::<u64>().ok())
                .unwrap_or(900);
            if now > signed_at + Duration::from_secs(expires) {
                return Err(AwsError::new(
                    403,
                    CORAL_NAMESPACE,
                    "AccessDeniedException",
                    "Request has expired",
                ));
            }
        }
    }
    Ok(())
}

/// The canonical request of AWS's Signature Version 4.
fn canonical_request(sig: &SigV4, request: &Signed<'_>) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(request.method);
    out.push('\n');
    // Canonical URI: the path as sent, each segment encoded once more.
    if request.path.is_empty() {
        out.push('/');
    } else {
        let segments: Vec<String> = request.path.split('/').map(encode).collect();
        out.push_str(&segments.join("/"));
    }
    out.push('\n');
    let mut pairs: Vec<(String, String)> = request
        .query
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (form::decode(k), form::decode(v))
                })
                .filter(|(k, _)| !(sig.location == AuthLocation::Query && k == "X-Amz-Signature"))
                .map(|(k, v)| (encode(&k), encode(&v)))
                .collect()
        })
        .unwrap_or_default();
    pairs.sort();
    let query: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    out.push_str(&query.join("&"));
    out.push('\n');
    for name in &sig.signed_headers {
        out.push_str(name);
        out.push(':');
        let values: Vec<String> = request
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| collapse(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        if values.is_empty() && name == "host" {
            out.push_str(request.authority.unwrap_or_default());
        } else {
            out.push_str(&values.join(","));
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&sig.signed_headers.join(";"));
    out.push('\n');
    let payload = request
        .headers
        .get("x-amz-content-sha256")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| match sig.location {
            AuthLocation::Query => "UNSIGNED-PAYLOAD".to_owned(),
            AuthLocation::Header => hex::encode(Sha256::digest(request.body)),
        });
    out.push_str(&payload);
    out
}

/// URI-encodes everything but the unreserved characters (RFC 3986).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Trims a header value and collapses inner runs of spaces to one.
fn collapse(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `20240501T120000Z`
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let format = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(s, &format)
        .ok()?
        .assume_utc();
    let secs = u64::try_from(t.unix_timestamp()).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

fn format_amz_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let t = time::OffsetDateTime::from_unix_timestamp(secs as i64)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::{self, AuthInput};

    /// AWS's documented example ("GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08",
    /// signed 20150830T123600Z with the example secret).
    #[test]
    fn aws_documentation_example() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8"
                .parse()
                .unwrap(),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
        let sig = sigv4::parse(&AuthInput {
            authorization: Some(authorization),
            query: Some("Action=ListUsers&Version=2010-05-08"),
            amz_date: Some("20150830T123600Z"),
            ..AuthInput::default()
        })
        .unwrap()
        .unwrap();
        let creds =
            Credentials::parse("AKIDEXAMPLE:wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY").unwrap();
        let request = Signed {
            method: "GET",
            path: "/",
            query: Some("Action=ListUsers&Version=2010-05-08"),
            headers: &headers,
            authority: None,
            body: b"",
        };
        let at = parse_amz_date("20150830T123600Z").unwrap();
        verify(&sig, &creds, &request, at).unwrap();
        // A wrong secret, an unknown key, and an old signature all fail.
        let wrong = Credentials::parse("AKIDEXAMPLE:other").unwrap();
        assert_eq!(
            verify(&sig, &wrong, &request, at).unwrap_err().code,
            "InvalidSignatureException"
        );
        let unknown = Credentials::parse("SOMEONEELSE:x").unwrap();
        assert_eq!(
            verify(&sig, &unknown, &request, at).unwrap_err().code,
            "UnrecognizedClientException"
        );
        let late = at + Duration::from_secs(16 * 60);
        let err = verify(&sig, &creds, &request, late).unwrap_err();
        assert!(
            err.message
                .starts_with("Signature expired: 20150830T123600Z is now earlier than"),
            "{}",
            err.message
        );
        // A changed body changes the payload hash.
        let tampered = Signed {
            body: b"x",
            ..request
        };
        assert_eq!(
            verify(&sig, &creds, &tampered, at).unwrap_err().code,
            "InvalidSignatureException"
        );
    }

    #[test]
    fn credentials_spec() {
        assert!(Credentials::parse("a:b,c:d").unwrap().secret("c") == Some("d"));
        assert!(Credentials::parse("nocolon").is_err());
        assert!(Credentials::parse(":x").is_err());
        assert!(Credentials::parse("").unwrap().is_empty());
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("a b/c~"), "a%20b%2Fc~");
        assert_eq!(encode("arn%3Aaws"), "arn%253Aaws");
        assert_eq!(collapse("  a   b  "), "a b");
    }
}
