//! Lambda under `/_nimbus/lambda/`: the deployment packages GetFunction's
//! `Code.Location` points at, and the warm environments.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};
use nimbus_lambda::Lambda;
use serde_json::json;

use super::{error, json_response};

pub const CODE_PREFIX: &str = "/_nimbus/lambda/code/";

/// `GET /_nimbus/lambda/code/<sha256-hex>.zip`: a stored package.
pub fn code(lambda: &Lambda, path: &str) -> Response<Bytes> {
    let id = path
        .strip_prefix(CODE_PREFIX)
        .and_then(|rest| rest.strip_suffix(".zip"))
        .unwrap_or("");
    let Some(file) = lambda.package(id) else {
        return error(
            StatusCode::NOT_FOUND,
            "NotFound",
            "no deployment package with that hash".into(),
        );
    };
    match std::fs::read(&file) {
        Ok(bytes) => {
            let mut response = Response::new(Bytes::from(bytes));
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/zip"));
            response
        }
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalFailure",
            format!("cannot read the package: {e}"),
        ),
    }
}

/// `GET /_nimbus/lambda/environments`: idle warm environments per
/// function version.
pub fn environments(lambda: &Lambda) -> Response<Bytes> {
    let warm: Vec<_> = lambda
        .warm_environments()
        .into_iter()
        .map(|(key, idle)| json!({"key": key, "idle": idle}))
        .collect();
    json_response(StatusCode::OK, &json!({ "environments": warm }))
}
