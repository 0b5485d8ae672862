//! Lambda's restJson1 binding: which operation a method and path name, and
//! the plain request / reply types the server hands over and gets back.
//! Paths carry the API version date AWS introduced each operation under.

use bytes::Bytes;
use http::{HeaderMap, Method};
use nimbus_wire::RequestContext;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::mpsc;

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
    pub body: Body,
}

/// A reply's body: whole, or streamed while a function writes it
/// (InvokeWithResponseStream, function URLs in RESPONSE_STREAM mode).
pub enum Body {
    Full(Bytes),
    /// The body's pieces as they are produced; the channel closing ends
    /// the body. An `Err` cuts the response off where it is, so the client
    /// sees it incomplete: the only way left to report a failure once the
    /// status line has gone out.
    Stream(mpsc::Receiver<std::result::Result<Bytes, Aborted>>),
}

/// Why a streamed body was cut off.
#[derive(Debug)]
pub struct Aborted(pub String);

impl std::fmt::Display for Aborted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Aborted {}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Full(bytes) => f.debug_tuple("Full").field(&bytes.len()).finish(),
            Body::Stream(_) => f.write_str("Stream"),
        }
    }
}

impl Body {
    /// The whole body, if it is not streamed.
    pub fn bytes(&self) -> Option<&Bytes> {
        match self {
            Body::Full(bytes) => Some(bytes),
            Body::Stream(_) => None,
        }
    }
}

impl Reply {
    pub fn json(status: u16, value: &Value) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", "application/json".into())],
            extra_headers: Vec::new(),
            body: Body::Full(Bytes::from(value.to_string())),
        }
    }

    pub fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            extra_headers: Vec::new(),
            body: Body::Full(Bytes::new()),
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

/// Which operation each method and path names: `"*"` matches any one
/// segment (a function name, alias, version, UUID or ARN), which the
/// handler receives in order. A `query` pair must also be present. The
/// first matching route wins, so a route with a query condition comes
/// before the same path without one.
struct Route {
    method: Method,
    path: &'static [&'static str],
    query: Option<(&'static str, &'static str)>,
    operation: &'static str,
}

const ROUTES: &[Route] = &[
    Route {
        method: Method::POST,
        path: &["2015-03-31", "functions"],
        query: None,
        operation: "CreateFunction",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "functions"],
        query: None,
        operation: "ListFunctions",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "functions", "*"],
        query: None,
        operation: "GetFunction",
    },
    Route {
        method: Method::DELETE,
        path: &["2015-03-31", "functions", "*"],
        query: None,
        operation: "DeleteFunction",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "functions", "*", "configuration"],
        query: None,
        operation: "GetFunctionConfiguration",
    },
    Route {
        method: Method::PUT,
        path: &["2015-03-31", "functions", "*", "configuration"],
        query: None,
        operation: "UpdateFunctionConfiguration",
    },
    Route {
        method: Method::PUT,
        path: &["2015-03-31", "functions", "*", "code"],
        query: None,
        operation: "UpdateFunctionCode",
    },
    Route {
        method: Method::POST,
        path: &["2015-03-31", "functions", "*", "invocations"],
        query: None,
        operation: "Invoke",
    },
    Route {
        method: Method::POST,
        path: &[
            "2021-11-15",
            "functions",
            "*",
            "response-streaming-invocations",
        ],
        query: None,
        operation: "InvokeWithResponseStream",
    },
    Route {
        method: Method::POST,
        path: &["2015-03-31", "functions", "*", "versions"],
        query: None,
        operation: "PublishVersion",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "functions", "*", "versions"],
        query: None,
        operation: "ListVersionsByFunction",
    },
    Route {
        method: Method::POST,
        path: &["2015-03-31", "functions", "*", "aliases"],
        query: None,
        operation: "CreateAlias",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "functions", "*", "aliases"],
        query: None,
        operation: "ListAliases",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "functions", "*", "aliases", "*"],
        query: None,
        operation: "GetAlias",
    },
    Route {
        method: Method::PUT,
        path: &["2015-03-31", "functions", "*", "aliases", "*"],
        query: None,
        operation: "UpdateAlias",
    },
    Route {
        method: Method::DELETE,
        path: &["2015-03-31", "functions", "*", "aliases", "*"],
        query: None,
        operation: "DeleteAlias",
    },
    Route {
        method: Method::POST,
        path: &["2015-03-31", "functions", "*", "policy"],
        query: None,
        operation: "AddPermission",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "functions", "*", "policy"],
        query: None,
        operation: "GetPolicy",
    },
    Route {
        method: Method::DELETE,
        path: &["2015-03-31", "functions", "*", "policy", "*"],
        query: None,
        operation: "RemovePermission",
    },
    Route {
        method: Method::PUT,
        path: &["2017-10-31", "functions", "*", "concurrency"],
        query: None,
        operation: "PutFunctionConcurrency",
    },
    Route {
        method: Method::DELETE,
        path: &["2017-10-31", "functions", "*", "concurrency"],
        query: None,
        operation: "DeleteFunctionConcurrency",
    },
    Route {
        method: Method::GET,
        path: &["2019-09-30", "functions", "*", "concurrency"],
        query: None,
        operation: "GetFunctionConcurrency",
    },
    Route {
        method: Method::PUT,
        path: &["2019-09-25", "functions", "*", "event-invoke-config"],
        query: None,
        operation: "PutFunctionEventInvokeConfig",
    },
    Route {
        method: Method::POST,
        path: &["2019-09-25", "functions", "*", "event-invoke-config"],
        query: None,
        operation: "UpdateFunctionEventInvokeConfig",
    },
    Route {
        method: Method::GET,
        path: &["2019-09-25", "functions", "*", "event-invoke-config"],
        query: None,
        operation: "GetFunctionEventInvokeConfig",
    },
    Route {
        method: Method::DELETE,
        path: &["2019-09-25", "functions", "*", "event-invoke-config"],
        query: None,
        operation: "DeleteFunctionEventInvokeConfig",
    },
    Route {
        method: Method::GET,
        path: &[
            "2019-09-25",
            "functions",
            "*",
            "event-invoke-config",
            "list",
        ],
        query: None,
        operation: "ListFunctionEventInvokeConfigs",
    },
    Route {
        method: Method::POST,
        path: &["2018-10-31", "layers", "*", "versions"],
        query: None,
        operation: "PublishLayerVersion",
    },
    Route {
        method: Method::GET,
        path: &["2018-10-31", "layers", "*", "versions"],
        query: None,
        operation: "ListLayerVersions",
    },
    Route {
        method: Method::GET,
        path: &["2018-10-31", "layers", "*", "versions", "*"],
        query: None,
        operation: "GetLayerVersion",
    },
    Route {
        method: Method::DELETE,
        path: &["2018-10-31", "layers", "*", "versions", "*"],
        query: None,
        operation: "DeleteLayerVersion",
    },
    Route {
        method: Method::GET,
        path: &["2018-10-31", "layers"],
        query: Some(("find", "LayerVersion")),
        operation: "GetLayerVersionByArn",
    },
    Route {
        method: Method::GET,
        path: &["2018-10-31", "layers"],
        query: None,
        operation: "ListLayers",
    },
    Route {
        method: Method::PUT,
        path: &["2019-09-30", "functions", "*", "provisioned-concurrency"],
        query: None,
        operation: "PutProvisionedConcurrencyConfig",
    },
    Route {
        method: Method::GET,
        path: &["2019-09-30", "functions", "*", "provisioned-concurrency"],
        query: Some(("List", "ALL")),
        operation: "ListProvisionedConcurrencyConfigs",
    },
    Route {
        method: Method::GET,
        path: &["2019-09-30", "functions", "*", "provisioned-concurrency"],
        query: None,
        operation: "GetProvisionedConcurrencyConfig",
    },
    Route {
        method: Method::DELETE,
        path: &["2019-09-30", "functions", "*", "provisioned-concurrency"],
        query: None,
        operation: "DeleteProvisionedConcurrencyConfig",
    },
    Route {
        method: Method::POST,
        path: &["2021-10-31", "functions", "*", "url"],
        query: None,
        operation: "CreateFunctionUrlConfig",
    },
    Route {
        method: Method::GET,
        path: &["2021-10-31", "functions", "*", "url"],
        query: None,
        operation: "GetFunctionUrlConfig",
    },
    Route {
        method: Method::PUT,
        path: &["2021-10-31", "functions", "*", "url"],
        query: None,
        operation: "UpdateFunctionUrlConfig",
    },
    Route {
        method: Method::DELETE,
        path: &["2021-10-31", "functions", "*", "url"],
        query: None,
        operation: "DeleteFunctionUrlConfig",
    },
    Route {
        method: Method::GET,
        path: &["2021-10-31", "functions", "*", "urls"],
        query: None,
        operation: "ListFunctionUrlConfigs",
    },
    Route {
        method: Method::POST,
        path: &["2015-03-31", "event-source-mappings"],
        query: None,
        operation: "CreateEventSourceMapping",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "event-source-mappings"],
        query: None,
        operation: "ListEventSourceMappings",
    },
    Route {
        method: Method::GET,
        path: &["2015-03-31", "event-source-mappings", "*"],
        query: None,
        operation: "GetEventSourceMapping",
    },
    Route {
        method: Method::PUT,
        path: &["2015-03-31", "event-source-mappings", "*"],
        query: None,
        operation: "UpdateEventSourceMapping",
    },
    Route {
        method: Method::DELETE,
        path: &["2015-03-31", "event-source-mappings", "*"],
        query: None,
        operation: "DeleteEventSourceMapping",
    },
    Route {
        method: Method::GET,
        path: &["2016-08-19", "account-settings"],
        query: None,
        operation: "GetAccountSettings",
    },
    Route {
        method: Method::GET,
        path: &["2017-03-31", "tags", "*"],
        query: None,
        operation: "ListTags",
    },
    Route {
        method: Method::POST,
        path: &["2017-03-31", "tags", "*"],
        query: None,
        operation: "TagResource",
    },
    Route {
        method: Method::DELETE,
        path: &["2017-03-31", "tags", "*"],
        query: None,
        operation: "UntagResource",
    },
];

/// The Lambda operation (AWS's name) a request names, and the values of
/// the path's variable segments, percent-decoded.
fn route(method: &Method, path: &str, query: Option<&str>) -> Option<(&'static str, Vec<String>)> {
    let segments: Vec<&str> = path
        .trim_start_matches('/')
        .trim_end_matches('/')
        .split('/')
        .collect();
    ROUTES
        .iter()
        .find(|r| {
            r.method == method
                && r.path.len() == segments.len()
                && r.path
                    .iter()
                    .zip(&segments)
                    .all(|(p, s)| *p == "*" || p == s)
                && r.query.is_none_or(|(name, value)| {
                    query
                        .and_then(|q| nimbus_wire::form::get(q, name))
                        .as_deref()
                        == Some(value)
                })
        })
        .map(|r| {
            let values = r
                .path
                .iter()
                .zip(&segments)
                .filter(|(p, _)| **p == "*")
                .map(|(_, s)| percent_decode(s))
                .collect();
            (r.operation, values)
        })
}

/// The AWS name of the operation a request names (for metrics and logs),
/// or `None` when it names none nimbus implements.
pub fn operation_name(method: &Method, path: &str, query: Option<&str>) -> Option<&'static str> {
    route(method, path, query).map(|(name, _)| name)
}

/// Runs the operation a request names.
pub async fn handle(lambda: &Lambda, ctx: &RequestContext, req: Request) -> Result<Reply> {
    let Some((operation, values)) = route(&req.method, &req.path, req.query.as_deref()) else {
        return Err(LambdaError::UnknownOperation(format!(
            "nimbus does not implement the Lambda operation at {} {}",
            req.method,
            shorten(&req.path)
        )));
    };
    let a: Vec<&str> = values.iter().map(String::as_str).collect();
    let req = &req;
    match operation {
        "CreateFunction" => ops::functions::create_function(lambda, ctx, req).await,
        "ListFunctions" => ops::functions::list_functions(lambda, ctx, req),
        "GetFunction" => ops::functions::get_function(lambda, ctx, req, a[0]),
        "DeleteFunction" => ops::functions::delete_function(lambda, ctx, req, a[0]).await,
        "GetFunctionConfiguration" => {
            ops::functions::get_function_configuration(lambda, ctx, req, a[0])
        }
        "UpdateFunctionConfiguration" => {
            ops::functions::update_function_configuration(lambda, ctx, req, a[0]).await
        }
        "UpdateFunctionCode" => ops::functions::update_function_code(lambda, ctx, req, a[0]).await,
        "Invoke" => ops::invoke::invoke(lambda, ctx, req, a[0]).await,
        "InvokeWithResponseStream" => {
            ops::invoke::invoke_with_response_stream(lambda, ctx, req, a[0]).await
        }
        "PublishVersion" => ops::versions::publish_version(lambda, ctx, req, a[0]).await,
        "ListVersionsByFunction" => {
            ops::versions::list_versions_by_function(lambda, ctx, req, a[0])
        }
        "CreateAlias" => ops::aliases::create_alias(lambda, ctx, req, a[0]).await,
        "ListAliases" => ops::aliases::list_aliases(lambda, ctx, req, a[0]),
        "GetAlias" => ops::aliases::get_alias(lambda, ctx, a[0], a[1]),
        "UpdateAlias" => ops::aliases::update_alias(lambda, ctx, req, a[0], a[1]).await,
        "DeleteAlias" => ops::aliases::delete_alias(lambda, ctx, a[0], a[1]).await,
        "AddPermission" => ops::policy::add_permission(lambda, ctx, req, a[0]).await,
        "GetPolicy" => ops::policy::get_policy(lambda, ctx, req, a[0]),
        "RemovePermission" => ops::policy::remove_permission(lambda, ctx, req, a[0], a[1]).await,
        "PutFunctionConcurrency" => {
            ops::concurrency::put_function_concurrency(lambda, ctx, req, a[0]).await
        }
        "DeleteFunctionConcurrency" => {
            ops::concurrency::delete_function_concurrency(lambda, ctx, a[0]).await
        }
        "GetFunctionConcurrency" => ops::concurrency::get_function_concurrency(lambda, ctx, a[0]),
        "PutFunctionEventInvokeConfig" => {
            ops::event_invoke_config::put_function_event_invoke_config(lambda, ctx, req, a[0], true)
                .await
        }
        "UpdateFunctionEventInvokeConfig" => {
            ops::event_invoke_config::put_function_event_invoke_config(
                lambda, ctx, req, a[0], false,
            )
            .await
        }
        "GetFunctionEventInvokeConfig" => {
            ops::event_invoke_config::get_function_event_invoke_config(lambda, ctx, req, a[0])
        }
        "DeleteFunctionEventInvokeConfig" => {
            ops::event_invoke_config::delete_function_event_invoke_config(lambda, ctx, req, a[0])
                .await
        }
        "ListFunctionEventInvokeConfigs" => {
            ops::event_invoke_config::list_function_event_invoke_configs(lambda, ctx, req, a[0])
        }
        "PublishLayerVersion" => ops::layers::publish_layer_version(lambda, ctx, req, a[0]).await,
        "ListLayerVersions" => ops::layers::list_layer_versions(lambda, ctx, req, a[0]),
        "GetLayerVersion" => ops::layers::get_layer_version(lambda, ctx, a[0], a[1]),
        "DeleteLayerVersion" => ops::layers::delete_layer_version(lambda, ctx, a[0], a[1]).await,
        "GetLayerVersionByArn" => ops::layers::get_layer_version_by_arn(lambda, ctx, req),
        "ListLayers" => ops::layers::list_layers(lambda, ctx, req),
        "PutProvisionedConcurrencyConfig" => {
            ops::provisioned::put_provisioned_concurrency_config(lambda, ctx, req, a[0]).await
        }
        "ListProvisionedConcurrencyConfigs" => {
            ops::provisioned::list_provisioned_concurrency_configs(lambda, ctx, req, a[0])
        }
        "GetProvisionedConcurrencyConfig" => {
            ops::provisioned::get_provisioned_concurrency_config(lambda, ctx, req, a[0])
        }
        "DeleteProvisionedConcurrencyConfig" => {
            ops::provisioned::delete_provisioned_concurrency_config(lambda, ctx, req, a[0]).await
        }
        "CreateFunctionUrlConfig" => {
            ops::urls::create_function_url_config(lambda, ctx, req, a[0]).await
        }
        "GetFunctionUrlConfig" => ops::urls::get_function_url_config(lambda, ctx, req, a[0]),
        "UpdateFunctionUrlConfig" => {
            ops::urls::update_function_url_config(lambda, ctx, req, a[0]).await
        }
        "DeleteFunctionUrlConfig" => {
            ops::urls::delete_function_url_config(lambda, ctx, req, a[0]).await
        }
        "ListFunctionUrlConfigs" => ops::urls::list_function_url_configs(lambda, ctx, req, a[0]),
        "CreateEventSourceMapping" => {
            ops::event_source_mappings::create_event_source_mapping(lambda, ctx, req).await
        }
        "ListEventSourceMappings" => {
            ops::event_source_mappings::list_event_source_mappings(lambda, ctx, req)
        }
        "GetEventSourceMapping" => {
            ops::event_source_mappings::get_event_source_mapping(lambda, ctx, a[0])
        }
        "UpdateEventSourceMapping" => {
            ops::event_source_mappings::update_event_source_mapping(lambda, ctx, req, a[0]).await
        }
        "DeleteEventSourceMapping" => {
            ops::event_source_mappings::delete_event_source_mapping(lambda, ctx, a[0]).await
        }
        "GetAccountSettings" => ops::concurrency::get_account_settings(lambda, ctx),
        "ListTags" => ops::tags::list_tags(lambda, ctx, a[0]),
        "TagResource" => ops::tags::tag_resource(lambda, ctx, req, a[0]).await,
        "UntagResource" => ops::tags::untag_resource(lambda, ctx, req, a[0]).await,
        // Every name in ROUTES has an arm above (a test checks).
        other => Err(LambdaError::Service(format!("no handler for {other}"))),
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

    #[test]
    fn routes_name_operations_and_capture_segments() {
        let r = |m: Method, p: &str, q: Option<&str>| route(&m, p, q);
        assert_eq!(
            r(
                Method::POST,
                "/2015-03-31/functions/my%2Dfn/invocations",
                None
            ),
            Some(("Invoke", vec!["my-fn".to_owned()]))
        );
        assert_eq!(
            r(
                Method::GET,
                "/2018-10-31/layers",
                Some("find=LayerVersion&Arn=x")
            ),
            Some(("GetLayerVersionByArn", vec![]))
        );
        assert_eq!(
            r(Method::GET, "/2018-10-31/layers/", None),
            Some(("ListLayers", vec![]))
        );
        assert_eq!(
            r(Method::DELETE, "/2018-10-31/layers/l/versions/3", None),
            Some(("DeleteLayerVersion", vec!["l".to_owned(), "3".to_owned()]))
        );
        assert_eq!(r(Method::PATCH, "/2015-03-31/functions", None), None);
        assert_eq!(r(Method::GET, "/2015-03-31/functions/f/nope", None), None);
        assert_eq!(
            operation_name(
                &Method::GET,
                "/2019-09-30/functions/f/provisioned-concurrency",
                Some("List=ALL")
            ),
            Some("ListProvisionedConcurrencyConfigs")
        );
    }

    /// Every route's operation reaches a handler: none falls through to
    /// the "no handler" answer.
    #[tokio::test]
    async fn every_route_has_a_handler() {
        let dir = tempfile::tempdir().unwrap();
        let lambda = Lambda::open(
            nimbus_store::Store::in_memory().unwrap(),
            crate::LambdaConfig {
                work_dir: dir.path().to_owned(),
                idle_timeout: std::time::Duration::from_secs(60),
                account_concurrency: 10,
                clock: nimbus_clock::Clock::new(),
                function_credentials: None,
                isolation: Default::default(),
                hide: Vec::new(),
            },
        )
        .unwrap();
        let ctx = RequestContext::local("us-east-1");
        for r in ROUTES {
            let path = format!("/{}", r.path.join("/").replace('*', "x"));
            let request = Request {
                method: r.method.clone(),
                path,
                query: r.query.map(|(k, v)| format!("{k}={v}")),
                headers: HeaderMap::new(),
                body: Bytes::new(),
            };
            let out = handle(&lambda, &ctx, request).await;
            if let Err(LambdaError::Service(m)) = &out {
                assert!(!m.starts_with("no handler"), "{}: {m}", r.operation);
            }
        }
    }
}
