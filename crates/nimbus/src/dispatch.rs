//! One request from start to finish: size limit, routing, authentication,
//! body, service call, framing, request id, log line.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::request::Parts;
use http::{HeaderMap, Request, Response, StatusCode};
use hyper::body::Incoming;
use nimbus_wire::json::{self, Crc32, JsonVersion};
use nimbus_wire::route::{self, Route, RouteInput, Service};
use nimbus_wire::sigv4::{self, AuthInput, SigV4};
use nimbus_wire::{form, headers, request_id, rest, xml, AwsError, RequestContext};

use crate::body::{self, BodyError, ResponseBody};
use crate::internal;
use crate::services::Services;

/// What every request handler shares.
pub struct App {
    pub services: Services,
    /// Region for requests whose credential scope names none.
    pub default_region: String,
    pub max_body_bytes: usize,
    /// `--auth strict`: the secrets signatures are checked against. `None`
    /// accepts any signature (the default, as other emulators do).
    pub credentials: Option<nimbus_wire::signature::Credentials>,
}

/// DynamoDB's text for a failure inside the service.
const INTERNAL_FAILURE_MESSAGE: &str =
    "The request processing has failed because of an unknown error, exception or failure.";

/// Handles one HTTP request. Never fails: every outcome is an HTTP response
/// carrying `x-amzn-RequestId`.
pub async fn handle(
    app: Arc<App>,
    request: Request<Incoming>,
    peer: std::net::SocketAddr,
) -> Response<ResponseBody> {
    let started = Instant::now();
    let request_id = request_id::next();
    let handled = process(&app, request, &request_id, peer).await;
    let mut response = handled.response;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(headers::REQUEST_ID, value);
    }
    if let Some((service, operation)) = &handled.metric {
        let outcome = crate::metrics::Outcome::of_status(response.status().as_u16());
        app.services
            .requests
            .record(service, operation, outcome, started.elapsed());
    }
    log(
        &handled.label,
        response.status(),
        handled.error.as_ref(),
        started.elapsed(),
        &request_id,
    );
    response
}

/// A response plus what the log line says about it.
struct Handled {
    /// A streamed body counts (in the log line and the metrics) when its
    /// head goes out.
    response: Response<ResponseBody>,
    /// `dynamodb.PutItem`, `GET /_nimbus/health`, ...
    label: String,
    error: Option<AwsError>,
    /// The service and operation the request metrics count it under
    /// (`None` for nimbus's own endpoints).
    metric: Option<(&'static str, String)>,
}

impl Handled {
    /// An awsQuery outcome: the XML document, or the `<ErrorResponse>` in
    /// the service's namespace.
    fn xml(
        outcome: Result<String, AwsError>,
        xmlns: &str,
        request_id: &str,
        label: String,
    ) -> Handled {
        match outcome {
            Ok(document) => Handled {
                response: xml::response(StatusCode::OK, document).map(body::full),
                label,
                error: None,
                metric: None,
            },
            Err(err) => Handled {
                response: xml::error_response(&err, xmlns, request_id).map(body::full),
                label,
                error: Some(err),
                metric: None,
            },
        }
    }

    fn error(err: AwsError, version: JsonVersion, crc: Crc32, label: String) -> Handled {
        Handled {
            response: json::error_response(&err, version, crc).map(body::full),
            label,
            error: Some(err),
            metric: None,
        }
    }

    fn counted(mut self, service: &'static str, operation: impl Into<String>) -> Handled {
        self.metric = Some((service, operation.into()));
        self
    }
}

async fn process(
    app: &App,
    request: Request<Incoming>,
    request_id: &str,
    peer: std::net::SocketAddr,
) -> Handled {
    let (parts, mut body) = request.into_parts();
    let handled = match function_url_target(&parts) {
        Some((url_id, path)) => {
            function_url(app, &parts, &mut body, request_id, peer, &url_id, path).await
        }
        None => respond(app, &parts, &mut body, request_id).await,
    };
    // Whatever was not read (an early error, a refused body) is drained so
    // the client reads our answer instead of a reset connection.
    body::drain_in_background(body, body::declared_length(&parts.headers));
    handled
}

async fn respond(app: &App, parts: &Parts, body: &mut Incoming, request_id: &str) -> Handled {
    let front_label = || format!("{} {}", parts.method, shorten(parts.uri.path()));
    // Until the service is known, errors use the awsJson version the request
    // declared, and carry x-amz-crc32: DynamoDB clients check it, and the
    // others ignore it.
    let request_version = header(&parts.headers, CONTENT_TYPE.as_str())
        .and_then(JsonVersion::from_content_type)
        .unwrap_or(JsonVersion::V1_0);
    let front_error =
        |err: AwsError| Handled::error(err, request_version, Crc32::Include, front_label());

    let auth = sigv4::parse(&auth_input(parts));
    let scope_service = match &auth {
        Ok(Some(sig)) => Some(sig.scope.service.as_str()),
        _ => None,
    };
    // The links SNS puts in its messages (SubscribeURL, UnsubscribeURL)
    // are plain GETs without a signature, and AWS honours them so.
    if scope_service.is_none()
        && header(&parts.headers, headers::TARGET).is_none()
        && is_sns_link(parts)
    {
        return sns_link(app, parts, request_id).await;
    }
    let route = route::classify(&RouteInput {
        target: header(&parts.headers, headers::TARGET),
        scope_service,
        path: parts.uri.path(),
    });
    // Refuse an announced oversized body before anything else reads it.
    let limit = body_limit(app, &route);
    if body::declared_too_large(&parts.headers, limit) {
        return front_error(AwsError::request_entity_too_large(limit));
    }
    match route {
        Err(err) => front_error(err),
        Ok(Route::Internal { path }) => match read_body(body, app.max_body_bytes).await {
            Ok(bytes) => Handled {
                response: internal::handle(&app.services, &parts.method, &path, &bytes)
                    .map(body::full),
                label: front_label(),
                error: None,
                metric: None,
            },
            Err(err) => front_error(err),
        },
        Ok(Route::UnknownService { signing_name }) => front_error(not_supported(&signing_name)),
        Ok(Route::Aws {
            service: Service::Lambda,
            ..
        }) => {
            let operation = nimbus_lambda::binding::operation_name(
                &parts.method,
                parts.uri.path(),
                parts.uri.query(),
            );
            let label = match operation {
                Some(op) => format!("lambda.{op} {}", shorten(parts.uri.path())),
                None => format!("lambda {} {}", parts.method, shorten(parts.uri.path())),
            };
            let host = request_host(parts);
            let handled = match call_lambda(app, parts, auth, body, request_id, host, limit).await {
                Ok(response) => Handled {
                    response,
                    label,
                    error: None,
                    metric: None,
                },
                Err(err) => Handled {
                    response: rest::error_response(&err).map(body::full),
                    label,
                    error: Some(err),
                    metric: None,
                },
            };
            handled.counted("lambda", operation.unwrap_or("unknown"))
        }
        Ok(
            Route::Aws {
                service: service @ Service::Sqs,
                operation: None,
            }
            | Route::Aws {
                service: service @ Service::Sns,
                ..
            },
        ) => {
            // awsQuery: SNS always, SQS without X-Amz-Target. XML out.
            let host = request_host(parts);
            let mut action = None;
            let outcome = call_query(
                app,
                parts,
                service,
                auth,
                body,
                request_id,
                host,
                &mut action,
            )
            .await;
            let operation = action.unwrap_or_else(|| "unknown".to_owned());
            let label = format!(
                "{}.{operation} (query) {}",
                service.name(),
                shorten(parts.uri.path())
            );
            let xmlns = match service {
                Service::Sqs => nimbus_sqs::query::XMLNS,
                _ => nimbus_sns::query::XMLNS,
            };
            Handled::xml(outcome, xmlns, request_id, label).counted(service.name(), operation)
        }
        Ok(Route::Aws { service, operation }) => {
            let label = match &operation {
                Some(op) => format!("{}.{op}", service.name()),
                None => format!(
                    "{} {} {}",
                    service.name(),
                    parts.method,
                    shorten(parts.uri.path())
                ),
            };
            let version = JsonVersion::for_protocol(service.protocol());
            let crc = match service {
                Service::DynamoDb | Service::DynamoDbStreams => Crc32::Include,
                _ => Crc32::Omit,
            };
            let host = request_host(parts);
            let metric_op = operation.clone().unwrap_or_else(|| "unknown".to_owned());
            let handled = match call(app, parts, service, operation, auth, body, request_id, host)
                .await
            {
                Ok(bytes) => Handled {
                    response: json::response(StatusCode::OK, bytes, version, crc).map(body::full),
                    label,
                    error: None,
                    metric: None,
                },
                Err(err) => Handled::error(err, version, crc, label),
            };
            handled.counted(service.name(), metric_op)
        }
    }
}

/// Authenticates an AWS API request, reads its body and runs the operation.
#[allow(clippy::too_many_arguments)]
async fn call(
    app: &App,
    parts: &Parts,
    service: Service,
    operation: Option<String>,
    auth: Result<Option<SigV4>, AwsError>,
    body: &mut Incoming,
    request_id: &str,
    host: Option<String>,
) -> Result<Vec<u8>, AwsError> {
    let sig = auth?.ok_or_else(AwsError::missing_authentication_token)?;
    let mut ctx =
        RequestContext::from_scope(&sig.scope, &app.default_region, request_id.to_owned());
    ctx.host = host;
    match service {
        Service::DynamoDb => {
            let operation = operation.ok_or_else(|| {
                AwsError::unknown_operation(
                    "DynamoDB requests must name their operation in the X-Amz-Target header",
                )
            })?;
            let body = read_body(body, app.max_body_bytes).await?;
            verify_signature(app, parts, &sig, &body)?;
            let dynamodb = app.services.dynamodb.clone();
            run_to_completion(async move { dynamodb.handle(&ctx, &operation, &body).await }).await
        }
        Service::DynamoDbStreams => {
            let operation = operation.ok_or_else(|| {
                AwsError::unknown_operation(
                    "DynamoDB Streams requests must name their operation in the X-Amz-Target header",
                )
            })?;
            let body = read_body(body, app.max_body_bytes).await?;
            let dynamodb = app.services.dynamodb.clone();
            run_to_completion(async move { dynamodb.handle_streams(&ctx, &operation, &body).await })
                .await
        }
        Service::Sqs => {
            // Requests without X-Amz-Target go to `call_sqs_query` instead.
            let operation = operation.ok_or_else(|| {
                AwsError::unknown_operation(
                    "SQS requests name their operation in the X-Amz-Target header (AmazonSQS.<Operation>) or an Action parameter",
                )
            })?;
            let body = read_body(body, app.max_body_bytes).await?;
            verify_signature(app, parts, &sig, &body)?;
            let sqs = app.services.sqs.clone();
            run_to_completion(async move { sqs.handle(&ctx, &operation, &body).await }).await
        }
        Service::CloudWatchLogs => {
            let operation = operation.ok_or_else(|| {
                AwsError::unknown_operation(
                    "CloudWatch Logs requests must name their operation in the X-Amz-Target header (Logs_20140328.<Operation>)",
                )
            })?;
            let body = read_body(body, app.max_body_bytes).await?;
            verify_signature(app, parts, &sig, &body)?;
            let logs = app.services.logs.clone();
            run_to_completion(async move { logs.handle(&ctx, &operation, &body).await }).await
        }
        other => Err(not_supported(other.name())),
    }
}

/// With `--auth strict`, checks the request's SigV4 signature against the
/// configured secrets (in relaxed mode any signature is accepted).
fn verify_signature(app: &App, parts: &Parts, sig: &SigV4, body: &[u8]) -> Result<(), AwsError> {
    let Some(credentials) = &app.credentials else {
        return Ok(());
    };
    let signed = nimbus_wire::signature::Signed {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        authority: parts.uri.authority().map(|a| a.as_str()),
        body,
    };
    nimbus_wire::signature::verify(sig, credentials, &signed, std::time::SystemTime::now())
}

/// Authenticates an awsQuery request (SQS or SNS) and runs it: the form
/// parameters are the query string's followed by the body's (GET requests
/// have only the former), and the answer is the XML response document.
#[allow(clippy::too_many_arguments)]
async fn call_query(
    app: &App,
    parts: &Parts,
    service: Service,
    auth: Result<Option<SigV4>, AwsError>,
    body: &mut Incoming,
    request_id: &str,
    host: Option<String>,
    action: &mut Option<String>,
) -> Result<String, AwsError> {
    let sig = auth?.ok_or_else(AwsError::missing_authentication_token)?;
    let mut ctx =
        RequestContext::from_scope(&sig.scope, &app.default_region, request_id.to_owned());
    ctx.host = host;
    let body = read_body(body, app.max_body_bytes).await?;
    verify_signature(app, parts, &sig, &body)?;
    let mut params: Vec<(String, String)> = form::pairs(parts.uri.query().unwrap_or("")).collect();
    params.extend(form::pairs(&String::from_utf8_lossy(&body)));
    *action = params
        .iter()
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.chars().take(64).collect());
    if service == Service::Sqs {
        let path = parts.uri.path().to_owned();
        let sqs = app.services.sqs.clone();
        run_to_completion(async move { sqs.handle_query(&ctx, &path, &params).await }).await
    } else {
        let sns = app.services.sns.clone();
        run_to_completion(async move { sns.handle_query(&ctx, &params).await }).await
    }
}

/// An unsigned `GET /?Action=ConfirmSubscription...` or
/// `GET /?Action=Unsubscribe...`: a link from an SNS message.
fn is_sns_link(parts: &Parts) -> bool {
    parts.method == http::Method::GET
        && parts.uri.path() == "/"
        && matches!(
            form::get(parts.uri.query().unwrap_or(""), "Action").as_deref(),
            Some("ConfirmSubscription" | "Unsubscribe")
        )
}

async fn sns_link(app: &App, parts: &Parts, request_id: &str) -> Handled {
    let label = format!("sns link {}", shorten(parts.uri.path()));
    let params: Vec<(String, String)> = form::pairs(parts.uri.query().unwrap_or("")).collect();
    let sns = app.services.sns.clone();
    let id = request_id.to_owned();
    let outcome = run_to_completion(async move { sns.handle_link(&id, &params).await }).await;
    Handled::xml(outcome, nimbus_sns::query::XMLNS, request_id, label)
}

/// A Lambda function URL request: by host name
/// (`<id>.lambda-url.<region>.localhost[:port]`, as AWS's
/// `<id>.lambda-url.<region>.on.aws`) or by the path form
/// `/_nimbus/lambda-url/<id>/...`. Returns the URL id and the path under it.
fn function_url_target(parts: &Parts) -> Option<(String, String)> {
    let path = parts.uri.path();
    if let Some(rest) = path.strip_prefix("/_nimbus/lambda-url/") {
        let (id, under) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        return valid_url_id(id).then(|| (id.to_owned(), under.to_owned()));
    }
    let host = header(&parts.headers, http::header::HOST.as_str())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))?;
    let name = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (id, rest) = name.split_once('.')?;
    rest.starts_with("lambda-url.")
        .then_some(())
        .filter(|_| valid_url_id(id))
        .map(|_| (id.to_owned(), path.to_owned()))
}

fn valid_url_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

async fn function_url(
    app: &App,
    parts: &Parts,
    body: &mut Incoming,
    request_id: &str,
    peer: std::net::SocketAddr,
    url_id: &str,
    path: String,
) -> Handled {
    let label = format!("lambda-url {} {}", parts.method, shorten(parts.uri.path()));
    let body = match read_body(body, nimbus_lambda::ops::invoke::MAX_SYNC_PAYLOAD + 1).await {
        Ok(body) => body,
        Err(err) => return Handled::error(err, JsonVersion::V1_0, Crc32::Omit, label),
    };
    let signed = match sigv4::parse(&auth_input(parts)) {
        Ok(Some(sig)) => verify_signature(app, parts, &sig, &body).is_ok(),
        _ => false,
    };
    let domain = header(&parts.headers, http::header::HOST.as_str())
        .map(|h| h.rsplit_once(':').map_or(h, |(n, _)| n).to_owned())
        .unwrap_or_default();
    let request = nimbus_lambda::Request {
        method: parts.method.clone(),
        path,
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body,
    };
    let lambda = app.services.lambda.clone();
    let url_id = url_id.to_owned();
    let request_id = request_id.to_owned();
    let source_ip = peer.ip().to_string();
    let reply = tokio::spawn(async move {
        let caller = nimbus_lambda::function_url::Caller {
            source_ip: &source_ip,
            domain: &domain,
            request_id: &request_id,
            signed,
        };
        nimbus_lambda::function_url::serve(&lambda, &url_id, request, &caller).await
    })
    .await;
    match reply {
        Ok(reply) => Handled {
            response: reply_response(reply),
            label,
            error: None,
            metric: Some(("lambda", "InvokeFunctionUrl".to_owned())),
        },
        Err(_) => Handled::error(
            AwsError::internal_failure(INTERNAL_FAILURE_MESSAGE),
            JsonVersion::V1_0,
            Crc32::Omit,
            label,
        ),
    }
}

fn reply_response(reply: nimbus_lambda::Reply) -> Response<ResponseBody> {
    let body = match reply.body {
        nimbus_lambda::binding::Body::Full(bytes) => body::full(bytes),
        nimbus_lambda::binding::Body::Stream(pieces) => {
            http_body_util::Either::Right(body::Streamed(pieces))
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    for (name, value) in reply.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
    for (name, value) in reply.extra_headers {
        if let (Ok(name), Ok(value)) = (
            http::header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// Lambda speaks restJson1: the operation is in the method and path, and
/// the reply carries its own status and headers (Invoke's
/// X-Amz-Function-Error, X-Amz-Log-Result, ...).
async fn call_lambda(
    app: &App,
    parts: &Parts,
    auth: Result<Option<SigV4>, AwsError>,
    body: &mut Incoming,
    request_id: &str,
    host: Option<String>,
    limit: usize,
) -> Result<Response<ResponseBody>, AwsError> {
    let sig = auth?.ok_or_else(AwsError::missing_authentication_token)?;
    let mut ctx =
        RequestContext::from_scope(&sig.scope, &app.default_region, request_id.to_owned());
    ctx.host = host;
    let body = read_body(body, limit).await?;
    verify_signature(app, parts, &sig, &body)?;
    let request = nimbus_lambda::Request {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers.clone(),
        body,
    };
    let lambda = app.services.lambda.clone();
    let reply = run_to_completion(async move {
        nimbus_lambda::binding::handle(&lambda, &ctx, request)
            .await
            .map_err(AwsError::from)
    })
    .await?;
    Ok(reply_response(reply))
}

/// The largest body a request may carry: Lambda's CreateFunction and
/// UpdateFunctionCode take a 50 MB package base64-encoded in JSON.
fn body_limit(app: &App, route: &Result<Route, AwsError>) -> usize {
    match route {
        Ok(Route::Aws {
            service: Service::Lambda,
            ..
        }) => app
            .max_body_bytes
            .max(nimbus_lambda::ops::functions::MAX_CODE_REQUEST_BYTES),
        _ => app.max_body_bytes,
    }
}

fn request_host(parts: &Parts) -> Option<String> {
    header(&parts.headers, http::header::HOST.as_str())
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .map(str::to_owned)
}

/// Runs a service call on its own task and waits for it. Two reasons: a
/// client that disconnects mid-request cancels only the wait, never the
/// operation halfway through its writes; and a panic in a service becomes
/// an InternalFailure for this request instead of a dropped connection.
async fn run_to_completion<T, F>(operation: F) -> Result<T, AwsError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, AwsError>> + Send + 'static,
{
    match tokio::spawn(operation).await {
        Ok(result) => result,
        Err(join_error) => {
            let cause = if join_error.is_panic() {
                panic_message(join_error.into_panic())
            } else {
                "the task was cancelled (server shutting down)".to_owned()
            };
            tracing::error!("service operation failed unexpectedly: {cause}");
            Err(AwsError::internal_failure(INTERNAL_FAILURE_MESSAGE))
        }
    }
}

async fn read_body(body: &mut Incoming, limit: usize) -> Result<Bytes, AwsError> {
    body::collect(body, limit).await.map_err(|e| match e {
        BodyError::TooLarge => AwsError::request_entity_too_large(limit),
        BodyError::Read(cause) => {
            AwsError::serialization(format!("could not read the request body: {cause}"))
        }
    })
}

fn not_supported(service_name: &str) -> AwsError {
    AwsError::unknown_operation(format!(
        "service {service_name} is not supported by nimbus yet"
    ))
}

fn auth_input(parts: &Parts) -> AuthInput<'_> {
    AuthInput {
        authorization: header(&parts.headers, "authorization"),
        query: parts.uri.query(),
        amz_date: header(&parts.headers, headers::AMZ_DATE),
        date: header(&parts.headers, "date"),
        security_token: header(&parts.headers, headers::SECURITY_TOKEN),
    }
}

/// A header as text; headers that are not visible ASCII count as absent,
/// since no AWS header we read may contain anything else.
fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panic: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panic: {s}")
    } else {
        "panic".to_owned()
    }
}

/// Bounds how much of a client-chosen path goes into a log line.
fn shorten(path: &str) -> &str {
    const MAX: usize = 120;
    if path.len() <= MAX {
        return path;
    }
    let cut = (0..=MAX)
        .rev()
        .find(|&i| path.is_char_boundary(i))
        .unwrap_or(0);
    &path[..cut]
}

/// One line per request: successes at debug; client errors at info and
/// server errors at warn, each saying what failed and why.
fn log(
    label: &str,
    status: StatusCode,
    error: Option<&AwsError>,
    elapsed: Duration,
    request_id: &str,
) {
    let status = status.as_u16();
    match error {
        None => tracing::debug!("{label} -> {status} in {elapsed:.1?} (request {request_id})"),
        Some(err) if status >= 500 => tracing::warn!(
            "{label} -> {status} {}: {} (request {request_id}, {elapsed:.1?})",
            err.code,
            err.message
        ),
        Some(err) => tracing::info!(
            "{label} -> {status} {}: {} (request {request_id}, {elapsed:.1?})",
            err.code,
            err.message
        ),
    }
}
