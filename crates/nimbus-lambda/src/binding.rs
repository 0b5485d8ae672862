//! Lambda's restJson1 binding: which operation a method and path name, and
//! the plain request / reply types the server hands over and gets back.
//! Paths carry the API version date AWS introduced each operation under.

use bytes::Bytes;
use http::{HeaderMap, Method};
use nimbus_wire::RequestContext;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{LambdaError, Result};
use crate::ops;
use crate::Lambda;

/// One Lambda API request, as read off the wire.
#[derive(Debug)]
pub struct Request {
    pub method: Method,
    /// The raw (percent-encoded) path.
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// One Lambda API response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// Headers whose names come from a function (function URL responses).
    pub extra_headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            extra_headers: Vec::new(),
            body: Bytes::from(value.to_string()),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            extra_headers: Vec::new(),
            body: Bytes::new(),
        }
    }
}

impl Request {
    /// A query parameter, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        let q = self.query.as_deref()?;
        nimbus_wire::form::get(q, name)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON body as `T`; an empty body reads as `{}`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let body: &[u8] = if self.body.is_empty() {
            b"{}"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| {
            LambdaError::InvalidRequestContent(format!(
                "Could not parse request body into json: {e}"
            ))
        })
    }
}

/// Runs the operation a request names.
pub async fn handle(lambda: &Lambda, ctx: &RequestContext, req: Request) -> Result<Reply> {
    let segments: Vec<String> = req
        .path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let m = req.method.clone();
    match (m, s.as_slice()) {
        (Method::POST, ["2015-03-31", "functions"]) => {
            ops::functions::create_function(lambda, ctx, &req).await
        }
        (Method::GET, ["2015-03-31", "functions"]) => {
            ops::functions::list_functions(lambda, ctx, &req)
        }
        (Method::GET, ["2015-03-31", "functions", name]) => {
            ops::functions::get_function(lambda, ctx, &req, name)
        }
        (Method::DELETE, ["2015-03-31", "functions", name]) => {
            ops::functions::delete_function(lambda, ctx, &req, name).await
        }
        (Method::GET, ["2015-03-31", "functions", name, "configuration"]) => {
            ops::functions::get_function_configuration(lambda, ctx, &req, name)
        }
        (Method::PUT, ["2015-03-31", "functions", name, "configuration"]) => {
            ops::functions::update_function_configuration(lambda, ctx, &req, name).await
        }
        (Method::PUT, ["2015-03-31", "functions", name, "code"]) => {
            ops::functions::update_function_code(lambda, ctx, &req, name).await
        }
        (Method::POST, ["2015-03-31", "functions", name, "invocations"]) => {
            ops::invoke::invoke(lambda, ctx, &req, name).await
        }
        (Method::POST, ["2021-11-15", "functions", name, "response-streaming-invocations"]) => {
            ops::invoke::invoke_with_response_stream(lambda, ctx, &req, name).await
        }
        (Method::POST, ["2015-03-31", "functions", name, "versions"]) => {
            ops::versions::publish_version(lambda, ctx, &req, name).await
        }
        (Method::GET, ["2015-03-31", "functions", name, "versions"]) => {
            ops::versions::list_versions_by_function(lambda, ctx, &req, name)
        }
        (Method::POST, ["2015-03-31", "functions", name, "aliases"]) => {
            ops::aliases::create_alias(lambda, ctx, &req, name).await
        }
        (Method::GET, ["2015-03-31", "functions", name, "aliases"]) => {
            ops::aliases::list_aliases(lambda, ctx, &req, name)
        }
        (Method::GET, ["2015-03-31", "functions", name, "aliases", alias]) => {
            ops::aliases::get_alias(lambda, ctx, name, alias)
        }
        (Method::PUT, ["2015-03-31", "functions", name, "aliases", alias]) => {
            ops::aliases::update_alias(lambda, ctx, &req, name, alias).await
        }
        (Method::DELETE, ["2015-03-31", "functions", name, "aliases", alias]) => {
            ops::aliases::delete_alias(lambda, ctx, name, alias).await
        }
        (Method::POST, ["2015-03-31", "functions", name, "policy"]) => {
            ops::policy::add_permission(lambda, ctx, &req, name).await
        }
        (Method::GET, ["2015-03-31", "functions", name, "policy"]) => {
            ops::policy::get_policy(lambda, ctx, &req, name)
        }
        (Method::DELETE, ["2015-03-31", "functions", name, "policy", sid]) => {
            ops::policy::remove_permission(lambda, ctx, &req, name, sid).await
        }
        (Method::PUT, ["2017-10-31", "functions", name, "concurrency"]) => {
            ops::concurrency::put_function_concurrency(lambda, ctx, &req, name).await
        }
        (Method::DELETE, ["2017-10-31", "functions", name, "concurrency"]) => {
            ops::concurrency::delete_function_concurrency(lambda, ctx, name).await
        }
        (Method::GET, ["2019-09-30", "functions", name, "concurrency"]) => {
            ops::concurrency::get_function_concurrency(lambda, ctx, name)
        }
        (Method::PUT, ["2019-09-25", "functions", name, "event-invoke-config"]) => {
            ops::event_invoke_config::put_function_event_invoke_config(
                lambda, ctx, &req, name, true,
            )
            .await
        }
        (Method::POST, ["2019-09-25", "functions", name, "event-invoke-config"]) => {
            ops::event_invoke_config::put_function_event_invoke_config(
                lambda, ctx, &req, name, false,
            )
            .await
        }
        (Method::GET, ["2019-09-25", "functions", name, "event-invoke-config"]) => {
            ops::event_invoke_config::get_function_event_invoke_config(lambda, ctx, &req, name)
        }
        (Method::DELETE, ["2019-09-25", "functions", name, "event-invoke-config"]) => {
            ops::event_invoke_config::delete_function_event_invoke_config(lambda, ctx, &req, name)
                .await
        }
        (Method::GET, ["2019-09-25", "functions", name, "event-invoke-config", "list"]) => {
            ops::event_invoke_config::list_function_event_invoke_configs(lambda, ctx, &req, name)
        }
        (Method::POST, ["2018-10-31", "layers", layer, "versions"]) => {
            ops::layers::publish_layer_version(lambda, ctx, &req, layer).await
        }
        (Method::GET, ["2018-10-31", "layers", layer, "versions"]) => {
            ops::layers::list_layer_versions(lambda, ctx, &req, layer)
        }
        (Method::GET, ["2018-10-31", "layers", layer, "versions", version]) => {
            ops::layers::get_layer_version(lambda, ctx, layer, version)
        }
        (Method::DELETE, ["2018-10-31", "layers", layer, "versions", version]) => {
            ops::layers::delete_layer_version(lambda, ctx, layer, version).await
        }
        (Method::GET, ["2018-10-31", "layers"])
            if req.query("find").as_deref() == Some("LayerVersion") =>
        {
            ops::layers::get_layer_version_by_arn(lambda, ctx, &req)
        }
        (Method::GET, ["2018-10-31", "layers"]) => ops::layers::list_layers(lambda, ctx, &req),
        (Method::PUT, ["2019-09-30", "functions", name, "provisioned-concurrency"]) => {
            ops::provisioned::put_provisioned_concurrency_config(lambda, ctx, &req, name).await
        }
        (Method::GET, ["2019-09-30", "functions", name, "provisioned-concurrency"])
            if req.query("List").as_deref() == Some("ALL") =>
        {
            ops::provisioned::list_provisioned_concurrency_configs(lambda, ctx, &req, name)
        }
        (Method::GET, ["2019-09-30", "functions", name, "provisioned-concurrency"]) => {
            ops::provisioned::get_provisioned_concurrency_config(lambda, ctx, &req, name)
        }
        (Method::DELETE, ["2019-09-30", "functions", name, "provisioned-concurrency"]) => {
            ops::provisioned::delete_provisioned_concurrency_config(lambda, ctx, &req, name).await
        }
        (Method::POST, ["2021-10-31", "functions", name, "url"]) => {
            ops::urls::create_function_url_config(lambda, ctx, &req, name).await
        }
        (Method::GET, ["2021-10-31", "functions", name, "url"]) => {
            ops::urls::get_function_url_config(lambda, ctx, &req, name)
        }
        (Method::PUT, ["2021-10-31", "functions", name, "url"]) => {
            ops::urls::update_function_url_config(lambda, ctx, &req, name).await
        }
        (Method::DELETE, ["2021-10-31", "functions", name, "url"]) => {
            ops::urls::delete_function_url_config(lambda, ctx, &req, name).await
        }
        (Method::GET, ["2021-10-31", "functions", name, "urls"]) => {
            ops::urls::list_function_url_configs(lambda, ctx, &req, name)
        }
        (Method::POST, ["2015-03-31", "event-source-mappings"]) => {
            ops::event_source_mappings::create_event_source_mapping(lambda, ctx, &req).await
        }
        (Method::GET, ["2015-03-31", "event-source-mappings"]) => {
            ops::event_source_mappings::list_event_source_mappings(lambda, ctx, &req)
        }
        (Method::GET, ["2015-03-31", "event-source-mappings", uuid]) => {
            ops::event_source_mappings::get_event_source_mapping(lambda, ctx, uuid)
        }
        (Method::PUT, ["2015-03-31", "event-source-mappings", uuid]) => {
            ops::event_source_mappings::update_event_source_mapping(lambda, ctx, &req, uuid).await
        }
        (Method::DELETE, ["2015-03-31", "event-source-mappings", uuid]) => {
            ops::event_source_mappings::delete_event_source_mapping(lambda, ctx, uuid).await
        }
        (Method::GET, ["2016-08-19", "account-settings"]) => {
            ops::concurrency::get_account_settings(lambda, ctx)
        }
        (Method::GET, ["2017-03-31", "tags", arn]) => ops::tags::list_tags(lambda, ctx, arn),
        (Method::POST, ["2017-03-31", "tags", arn]) => {
            ops::tags::tag_resource(lambda, ctx, &req, arn).await
        }
        (Method::DELETE, ["2017-03-31", "tags", arn]) => {
            ops::tags::untag_resource(lambda, ctx, &req, arn).await
        }
        (method, _) => Err(LambdaError::UnknownOperation(format!(
            "nimbus does not implement the Lambda operation at {method} {}",
            shorten(&req.path)
        ))),
    }
}

/// Decodes `%XX` escapes of one path segment (`+` stays a plus in paths).
fn percent_decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn shorten(path: &str) -> &str {
    let mut cut = path.len().min(200);
    while !path.is_char_boundary(cut) {
        cut -= 1;
    }
    &path[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_path_segments() {
        assert_eq!(
            percent_decode("arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af"),
            "arn:aws:lambda:us-east-1:000000000000:function:f"
        );
        assert_eq!(percent_decode("a+b"), "a+b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%41"), "A");
    }
}
