//! Lambda through the official aws-sdk-lambda against a live server: the
//! create / invoke / update / publish / alias / delete life of a function,
//! the errors the SDK models as typed variants, and the durability of an
//! accepted Event invocation across `kill -9`.

mod common;
mod lambda_util;
mod sdk;

use std::time::{Duration, Instant};

use aws_sdk_lambda::operation::create_function::CreateFunctionError;
use aws_sdk_lambda::operation::get_function::GetFunctionError;
use aws_sdk_lambda::operation::invoke::{InvokeError, InvokeOutput};
use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError;
use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    AliasRoutingConfiguration, Environment, FunctionCode, InvocationType, LastUpdateStatus,
    LogType, Runtime, State, ThrottleReason,
};
use aws_sdk_lambda::Client;
use base64::Engine;
use common::Server;
use lambda_util::{client as lambda_client, package, ROLE};
use sdk::{expect_error, ok, ACCOUNT, REGION};

fn python(source: &str) -> Vec<u8> {
    package(&[("index.py", source, 0o644)])
}

fn arn(name: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}")
}

async fn create(client: &Client, name: &str, zip: Vec<u8>) -> String {
    let out = ok(client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .role(ROLE)
        .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
        .send()
        .await);
    out.revision_id().expect("RevisionId").to_owned()
}

async fn invoke_json(client: &Client, name: &str, payload: &str) -> (InvokeOutput, String) {
    let out = ok(client
        .invoke()
        .function_name(name)
        .payload(Blob::new(payload))
        .send()
        .await);
    let body = out
        .payload()
        .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
        .unwrap_or_default();
    (out, body)
}

const VERSIONED: &str = "\
import os

def handler(event, context):
    return {'tag': os.environ.get('TAG', 'none'), 'version': context.function_version, 'event': event}
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn function_lifecycle() {
    let server = Server::start(&["--in-memory"]);
    let client = lambda_client(&server.endpoint);
    let name = "lifecycle";
    let zip = python(VERSIONED);
    let created = ok(client
        .create_function()
        .function_name(name)
        .runtime(Runtime::Python312)
        .handler("index.handler")
        .role(ROLE)
        .timeout(5)
        .memory_size(256)
        .environment(Environment::builder().variables("TAG", "first").build())
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(zip.clone()))
                .build(),
        )
        .send()
        .await);
    assert_eq!(created.function_arn(), Some(arn(name).as_str()));
    assert_eq!(created.code_size(), zip.len() as i64);
    assert_eq!(created.version(), Some("$LATEST"));
    assert_eq!(created.state(), Some(&State::Pending));

    let got = ok(client.get_function().function_name(name).send().await);
    let conf = got.configuration().expect("Configuration");
    assert_eq!(conf.state(), Some(&State::Active));
    assert_eq!(
        conf.last_update_status(),
        Some(&LastUpdateStatus::Successful)
    );
    assert_eq!(conf.timeout(), Some(5));
    assert_eq!(conf.memory_size(), Some(256));
    assert_eq!(conf.code_sha256(), created.code_sha256());

    let (out, body) = invoke_json(&client, name, r#"{"n":1}"#).await;
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), None);
    assert_eq!(out.executed_version(), Some("$LATEST"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"tag": "first", "version": "$LATEST", "event": {"n": 1}})
    );

    // Publish version 1, change code and configuration, publish version 2.
    let v1 = ok(client.publish_version().function_name(name).send().await);
    assert_eq!(v1.version(), Some("1"));
    assert_eq!(v1.function_arn(), Some(format!("{}:1", arn(name)).as_str()));
    let updated = ok(client
        .update_function_code()
        .function_name(name)
        .zip_file(Blob::new(python(
            "def handler(event, context):\n    return 'second code'\n",
        )))
        .send()
        .await);
    assert_ne!(updated.code_sha256(), created.code_sha256());
    ok(client
        .update_function_configuration()
        .function_name(name)
        .environment(Environment::builder().variables("TAG", "second").build())
        .send()
        .await);
    let v2 = ok(client.publish_version().function_name(name).send().await);
    assert_eq!(v2.version(), Some("2"));
    let (_, body) = invoke_json(&client, &format!("{name}:1"), "{}").await;
    assert!(body.contains(r#""tag": "first""#), "{body}");
    let (out, body) = invoke_json(&client, &format!("{name}:2"), "{}").await;
    assert_eq!(body, r#""second code""#);
    assert_eq!(out.executed_version(), Some("2"));

    // An alias on version 1 with a share of traffic on version 2.
    let alias = ok(client
        .create_alias()
        .function_name(name)
        .name("live")
        .function_version("1")
        .routing_config(
            AliasRoutingConfiguration::builder()
                .additional_version_weights("2", 0.5)
                .build(),
        )
        .send()
        .await);
    assert_eq!(
        alias.alias_arn(),
        Some(format!("{}:live", arn(name)).as_str())
    );
    let mut executed = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let out = ok(client
            .invoke()
            .function_name(name)
            .qualifier("live")
            .send()
            .await);
        executed.insert(out.executed_version().unwrap_or_default().to_owned());
    }
    assert_eq!(executed, ["1".to_owned(), "2".to_owned()].into());
    let moved = ok(client
        .update_alias()
        .function_name(name)
        .name("live")
        .function_version("2")
        .routing_config(AliasRoutingConfiguration::builder().build())
        .send()
        .await);
    assert_eq!(moved.function_version(), Some("2"));
    let out = ok(client
        .invoke()
        .function_name(format!("{}:live", arn(name)))
        .send()
        .await);
    assert_eq!(out.executed_version(), Some("2"));
    let aliases = ok(client.list_aliases().function_name(name).send().await);
    assert_eq!(aliases.aliases().len(), 1);
    let versions = ok(client
        .list_versions_by_function()
        .function_name(name)
        .send()
        .await);
    let listed: Vec<_> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version())
        .collect();
    assert_eq!(listed, ["$LATEST", "1", "2"]);

    // Tail logs come back base64-encoded with START / END / REPORT.
    let out = ok(client
        .invoke()
        .function_name(name)
        .log_type(LogType::Tail)
        .send()
        .await);
    let log = base64::engine::general_purpose::STANDARD
        .decode(out.log_result().expect("LogResult"))
        .expect("base64 log");
    let log = String::from_utf8(log).unwrap();
    assert!(log.contains("START RequestId: "), "{log}");
    assert!(log.contains("REPORT RequestId: "), "{log}");

    ok(client
        .delete_alias()
        .function_name(name)
        .name("live")
        .send()
        .await);
    ok(client.delete_function().function_name(name).send().await);
    let err = expect_error(
        client.get_function().function_name(name).send().await,
        "ResourceNotFoundException",
        &format!("Function not found: {}", arn(name)),
    );
    assert!(matches!(
        err,
        GetFunctionError::ResourceNotFoundException(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_errors() {
    let server = Server::start(&["--in-memory"]);
    let client = lambda_client(&server.endpoint);
    let revision = create(&client, "errors", python(VERSIONED)).await;

    let err = expect_error(
        client
            .create_function()
            .function_name("errors")
            .runtime(Runtime::Python312)
            .handler("index.handler")
            .role(ROLE)
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(python(VERSIONED)))
                    .build(),
            )
            .send()
            .await,
        "ResourceConflictException",
        "Function already exist: errors",
    );
    assert!(matches!(
        err,
        CreateFunctionError::ResourceConflictException(_)
    ));

    let err = expect_error(
        client
            .create_function()
            .function_name("notazip")
            .runtime(Runtime::Python312)
            .handler("index.handler")
            .role(ROLE)
            .code(
                FunctionCode::builder()
                    .zip_file(Blob::new(&b"plain text"[..]))
                    .build(),
            )
            .send()
            .await,
        "InvalidParameterValueException",
        "Could not unzip uploaded file. Please check your file, then try to upload again.",
    );
    assert!(matches!(
        err,
        CreateFunctionError::InvalidParameterValueException(_)
    ));

    let err = expect_error(
        client
            .update_function_code()
            .function_name("errors")
            .zip_file(Blob::new(python(VERSIONED)))
            .revision_id("00000000-0000-0000-0000-000000000000")
            .send()
            .await,
        "PreconditionFailedException",
        "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id",
    );
    assert!(matches!(
        err,
        UpdateFunctionCodeError::PreconditionFailedException(_)
    ));
    // The right revision is accepted.
    ok(client
        .update_function_configuration()
        .function_name("errors")
        .revision_id(revision)
        .description("ok")
        .send()
        .await);

    let err = expect_error(
        client
            .update_function_configuration()
            .function_name("errors")
            .environment(Environment::builder().variables("AWS_REGION", "x").build())
            .send()
            .await,
        "InvalidParameterValueException",
        "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: AWS_REGION",
    );
    assert!(matches!(
        err,
        UpdateFunctionConfigurationError::InvalidParameterValueException(_)
    ));

    let err = expect_error(
        client
            .invoke()
            .function_name("errors")
            .payload(Blob::new(&b"{not json"[..]))
            .send()
            .await,
        "InvalidRequestContentException",
        "Could not parse request body into json: Could not parse payload into json: key must be a string at line 1 column 2",
    );
    assert!(matches!(
        err,
        InvokeError::InvalidRequestContentException(_)
    ));

    let err = expect_error(
        client.invoke().function_name("missing").send().await,
        "ResourceNotFoundException",
        &format!("Function not found: {}", arn("missing")),
    );
    assert!(matches!(err, InvokeError::ResourceNotFoundException(_)));
    let err = expect_error(
        client
            .invoke()
            .function_name("errors")
            .qualifier("nope")
            .send()
            .await,
        "ResourceNotFoundException",
        &format!("Function not found: {}:nope", arn("errors")),
    );
    assert!(matches!(err, InvokeError::ResourceNotFoundException(_)));

    ok(client
        .put_function_concurrency()
        .function_name("errors")
        .reserved_concurrent_executions(0)
        .send()
        .await);
    let err = expect_error(
        client.invoke().function_name("errors").send().await,
        "TooManyRequestsException",
        "Rate Exceeded.",
    );
    match err {
        InvokeError::TooManyRequestsException(e) => assert_eq!(
            e.reason(),
            Some(&ThrottleReason::ReservedFunctionConcurrentInvocationLimitExceeded)
        ),
        other => panic!("not a typed throttle: {other:?}"),
    }

    // A function error is not an SDK error: 200 with FunctionError.
    create(
        &client,
        "raises",
        python("def handler(event, context):\n    raise KeyError('k')\n"),
    )
    .await;
    let (out, body) = invoke_json(&client, "raises", "{}").await;
    assert_eq!(out.status_code(), 200);
    assert_eq!(out.function_error(), Some("Unhandled"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["errorType"], "KeyError");
    assert_eq!(body["errorMessage"], "'k'");

    // DryRun checks and runs nothing.
    let out = ok(client
        .invoke()
        .function_name("raises")
        .invocation_type(InvocationType::DryRun)
        .send()
        .await);
    assert_eq!(out.status_code(), 204);
}

/// An accepted Event invocation is durable: the server is killed with
/// SIGKILL before the event could run, and it runs after a restart on the
/// same data directory.
///
/// The event cannot run before the kill because the function's reserved
/// concurrency is 0 (AWS accepts Event invocations of a throttled function
/// and keeps retrying them for up to six hours); the reservation is itself
/// durable, so the restarted server keeps the event waiting until the test
/// removes the reservation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepted_event_survives_sigkill() {
    let (_dir, data_dir) = common::temp_data_dir();
    let data_arg = common::arg(&data_dir);
    // The function reports each run over loopback TCP: it runs isolated
    // and cannot write the test's files.
    let notes = Notes::listen();

    let mut server = Server::start(&["--data-dir", data_arg]);
    let client = lambda_client(&server.endpoint);
    create(
        &client,
        "durable",
        python(
            "import socket\n\ndef handler(event, context):\n    with socket.create_connection(('127.0.0.1', event['port'])) as s:\n        s.sendall((event['note'] + '\\n').encode())\n",
        ),
    )
    .await;
    ok(client
        .put_function_concurrency()
        .function_name("durable")
        .reserved_concurrent_executions(0)
        .send()
        .await);
    let payload = serde_json::json!({"port": notes.port, "note": "after restart"}).to_string();
    let out = ok(client
        .invoke()
        .function_name("durable")
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload))
        .send()
        .await);
    assert_eq!(out.status_code(), 202);
    // Give the worker time to try (and be throttled) before the crash.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        notes.received().is_empty(),
        "the event ran despite reserved concurrency 0"
    );
    server.kill();

    let server = Server::start(&["--data-dir", data_arg]);
    let client = lambda_client(&server.endpoint);
    // Still throttled after the restart: the event waits.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(notes.received().is_empty(), "the event ran while throttled");
    let conc = ok(client
        .get_function_concurrency()
        .function_name("durable")
        .send()
        .await);
    assert_eq!(conc.reserved_concurrent_executions(), Some(0));
    ok(client
        .delete_function_concurrency()
        .function_name("durable")
        .send()
        .await);
    notes.wait(Duration::from_secs(60), &server).await;
    // Exactly once: the event was run by the second life only.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notes.received(), "after restart\n");
}

/// What functions send to a loopback listener, one connection each.
struct Notes {
    port: u16,
    received: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Notes {
    fn listen() -> Notes {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = received.clone();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut text = String::new();
                let _ = std::io::Read::read_to_string(&mut conn, &mut text);
                sink.lock().unwrap().push_str(&text);
            }
        });
        Notes { port, received }
    }

    fn received(&self) -> String {
        self.received.lock().unwrap().clone()
    }

    async fn wait(&self, timeout: Duration, server: &Server) {
        let deadline = Instant::now() + timeout;
        while self.received().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the function never reported; server output:\n{}",
                server.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
