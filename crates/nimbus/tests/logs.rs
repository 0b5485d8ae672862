//! CloudWatch Logs (awsJson 1.1) through the official AWS SDK for Rust
//! against a live `nimbus serve`: groups, streams, PutLogEvents' batch
//! rules, GetLogEvents' tokens, FilterLogEvents' interleaving, patterns and
//! paging, retention, tags, durability across SIGKILL, and bad input with
//! its exact error code and message.

mod common;

use std::fmt::Debug;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatchlogs::config::http::HttpResponse;
use aws_sdk_cloudwatchlogs::config::retry::RetryConfig;
use aws_sdk_cloudwatchlogs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::types::{InputLogEvent, OrderBy};
use aws_sdk_cloudwatchlogs::Client;

const ACCOUNT: &str = "000000000000";
const DAY: i64 = 86_400_000;

fn client(endpoint: &str) -> Client {
    let http = aws_smithy_http_client::Builder::new().build_http();
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIDNIMBUSTESTS",
            "nimbus-test-secret",
            None,
            None,
            "nimbus-tests",
        ))
        .endpoint_url(endpoint)
        .http_client(http)
        .retry_config(RetryConfig::disabled())
        .build();
    Client::from_conf(config)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn event(ts: i64, message: &str) -> InputLogEvent {
    InputLogEvent::builder()
        .timestamp(ts)
        .message(message)
        .build()
        .unwrap()
}

#[track_caller]
fn ok<T, E: ProvideErrorMetadata + Debug>(result: Result<T, SdkError<E, HttpResponse>>) -> T {
    match result {
        Ok(out) => out,
        Err(err) => panic!(
            "request failed: {:?} {:?} ({err:?})",
            err.code(),
            err.message()
        ),
    }
}

#[track_caller]
fn expect_error<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, SdkError<E, HttpResponse>>,
    code: &str,
    message: &str,
) {
    match result {
        Ok(out) => panic!("expected {code} ({message}), got success: {out:?}"),
        Err(err) => {
            let status = err.raw_response().map(|r| r.status().as_u16());
            assert_eq!(
                (err.code(), err.message()),
                (Some(code), Some(message)),
                "wrong error (HTTP {status:?})"
            );
            assert_eq!(status, Some(400));
        }
    }
}

async fn setup(c: &Client, group: &str, streams: &[&str]) {
    ok(c.create_log_group().log_group_name(group).send().await);
    for s in streams {
        ok(c.create_log_stream()
            .log_group_name(group)
            .log_stream_name(*s)
            .send()
            .await);
    }
}

async fn put(c: &Client, group: &str, stream: &str, events: Vec<InputLogEvent>) {
    ok(c.put_log_events()
        .log_group_name(group)
        .log_stream_name(stream)
        .set_log_events(Some(events))
        .send()
        .await);
}

#[tokio::test]
async fn log_groups_create_describe_page_and_delete() {
    let server = common::Server::start(&["--in-memory"]);
    let c = client(&server.endpoint);
    for name in ["/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c", "other"] {
        ok(c.create_log_group().log_group_name(name).send().await);
    }
    expect_error(
        c.create_log_group().log_group_name("other").send().await,
        "ResourceAlreadyExistsException",
        "The specified log group already exists",
    );

    let all = ok(c.describe_log_groups().send().await);
    let names: Vec<_> = all
        .log_groups()
        .iter()
        .map(|g| g.log_group_name().unwrap())
        .collect();
    assert_eq!(
        names,
        ["/aws/lambda/a", "/aws/lambda/b", "/aws/lambda/c", "other"]
    );
    let g = &all.log_groups()[0];
    assert_eq!(
        g.arn(),
        Some(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/a:*").as_str())
    );
    assert_eq!(
        g.log_group_arn(),
        Some(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/a").as_str())
    );
    assert!(g.creation_time().unwrap() > 0);
    assert_eq!(g.retention_in_days(), None);

    // Prefix and paging: two pages of two, then one.
    let p1 = ok(c
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/")
        .limit(2)
        .send()
        .await);
    assert_eq!(p1.log_groups().len(), 2);
    let p2 = ok(c
        .describe_log_groups()
        .log_group_name_prefix("/aws/lambda/")
        .limit(2)
        .next_token(p1.next_token().unwrap())
        .send()
        .await);
    assert_eq!(p2.log_groups().len(), 1);
    assert_eq!(p2.log_groups()[0].log_group_name(), Some("/aws/lambda/c"));
    assert_eq!(p2.next_token(), None);
    let pattern = ok(c
        .describe_log_groups()
        .log_group_name_pattern("LAMBDA/B")
        .send()
        .await);
    assert_eq!(pattern.log_groups().len(), 1);

    ok(c.delete_log_group().log_group_name("other").send().await);
    expect_error(
        c.delete_log_group().log_group_name("other").send().await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
    assert_eq!(
        ok(c.describe_log_groups().send().await).log_groups().len(),
        3
    );
}

#[tokio::test]
async fn log_group_bad_input() {
    let server = common::Server::start(&["--in-memory"]);
    let c = client(&server.endpoint);
    expect_error(
        c.create_log_group()
            .log_group_name("bad name!")
            .send()
            .await,
        "InvalidParameterException",
        r"1 validation error detected: Value 'bad name!' at 'logGroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+",
    );
    let long = "a".repeat(513);
    expect_error(
        c.create_log_group().log_group_name(&long).send().await,
        "InvalidParameterException",
        &format!("1 validation error detected: Value '{long}' at 'logGroupName' failed to satisfy constraint: Member must have length less than or equal to 512"),
    );
    expect_error(
        c.create_log_group().log_group_name("").send().await,
        "InvalidParameterException",
        "1 validation error detected: Value '' at 'logGroupName' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    expect_error(
        c.describe_log_groups().limit(51).send().await,
        "InvalidParameterException",
        "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50",
    );
    expect_error(
        c.describe_log_groups().limit(0).send().await,
        "InvalidParameterException",
        "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1",
    );
    expect_error(
        c.describe_log_groups()
            .next_token("zz-not-a-token")
            .send()
            .await,
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    );
    expect_error(
        c.describe_log_groups()
            .log_group_name_prefix("a")
            .log_group_name_pattern("b")
            .send()
            .await,
        "InvalidParameterException",
        "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
    );
    ok(c.create_log_group().log_group_name("g").send().await);
    expect_error(
        c.put_retention_policy()
            .log_group_name("g")
            .retention_in_days(2)
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value '2' at 'retentionInDays' failed to satisfy constraint: Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]",
    );
    expect_error(
        c.put_retention_policy()
            .log_group_name("missing")
            .retention_in_days(1)
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

#[tokio::test]
async fn retention_and_tags() {
    let server = common::Server::start(&["--in-memory"]);
    let c = client(&server.endpoint);
    setup(&c, "keep", &["s"]).await;
    let now = now_ms();
    // Separate batches: one batch may not span more than 24 hours.
    put(&c, "keep", "s", vec![event(now - 3 * DAY, "old")]).await;
    put(&c, "keep", "s", vec![event(now, "new")]).await;
    ok(c.put_retention_policy()
        .log_group_name("keep")
        .retention_in_days(1)
        .send()
        .await);
    let g = ok(c.describe_log_groups().send().await);
    assert_eq!(g.log_groups()[0].retention_in_days(), Some(1));
    // The 3-day-old event is past a 1-day retention: gone.
    let got = ok(c
        .get_log_events()
        .log_group_name("keep")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await);
    let msgs: Vec<_> = got.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(msgs, ["new"]);
    // And PutLogEvents now reports events before the retention as expired.
    let out = ok(c
        .put_log_events()
        .log_group_name("keep")
        .log_stream_name("s")
        .log_events(event(now - 2 * DAY, "expired"))
        .log_events(event(now, "fine"))
        .send()
        .await);
    let info = out.rejected_log_events_info().unwrap();
    assert_eq!(info.expired_log_event_end_index(), Some(1));
    ok(c.delete_retention_policy()
        .log_group_name("keep")
        .send()
        .await);
    let g = ok(c.describe_log_groups().send().await);
    assert_eq!(g.log_groups()[0].retention_in_days(), None);

    // Tags: by ARN and by name, one set.
    let arn = format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:keep");
    ok(c.tag_resource()
        .resource_arn(&arn)
        .tags("team", "core")
        .tags("env", "dev")
        .send()
        .await);
    #[allow(deprecated)]
    let by_name = ok(c.list_tags_log_group().log_group_name("keep").send().await);
    assert_eq!(by_name.tags().unwrap().len(), 2);
    ok(c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("env")
        .send()
        .await);
    let by_arn = ok(c.list_tags_for_resource().resource_arn(&arn).send().await);
    assert_eq!(
        by_arn.tags().unwrap().get("team").map(String::as_str),
        Some("core")
    );
    assert_eq!(by_arn.tags().unwrap().len(), 1);
    expect_error(
        c.list_tags_for_resource()
            .resource_arn(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:nope"))
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
    expect_error(
        c.tag_resource()
            .resource_arn("arn:aws:sqs:us-east-1:1:q")
            .tags("a", "b")
            .send()
            .await,
        "InvalidParameterException",
        "Invalid ARN: arn:aws:sqs:us-east-1:1:q",
    );
    let mut too_many = c.tag_resource().resource_arn(&arn);
    for i in 0..50 {
        too_many = too_many.tags(format!("k{i}"), "v");
    }
    expect_error(
        too_many.send().await,
        "TooManyTagsException",
        "A resource can have no more than 50 tags.",
    );
}

#[tokio::test]
async fn log_streams_create_describe_order_and_delete() {
    let server = common::Server::start(&["--in-memory"]);
    let c = client(&server.endpoint);
    setup(&c, "g", &["b", "a", "c"]).await;
    expect_error(
        c.create_log_stream()
            .log_group_name("g")
            .log_stream_name("a")
            .send()
            .await,
        "ResourceAlreadyExistsException",
        "The specified log stream already exists",
    );
    expect_error(
        c.create_log_stream()
            .log_group_name("nope")
            .log_stream_name("a")
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
    expect_error(
        c.create_log_stream()
            .log_group_name("g")
            .log_stream_name("x:y")
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value 'x:y' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*",
    );
    let now = now_ms();
    put(&c, "g", "c", vec![event(now - 3000, "c1")]).await;
    put(&c, "g", "a", vec![event(now - 2000, "a1")]).await;
    put(&c, "g", "b", vec![event(now - 1000, "b1")]).await;

    let names = |out: &aws_sdk_cloudwatchlogs::operation::describe_log_streams::DescribeLogStreamsOutput| {
        out.log_streams()
            .iter()
            .map(|s| s.log_stream_name().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    let by_name = ok(c.describe_log_streams().log_group_name("g").send().await);
    assert_eq!(names(&by_name), ["a", "b", "c"]);
    let s = &by_name.log_streams()[0];
    assert_eq!(s.first_event_timestamp(), Some(now - 2000));
    assert_eq!(s.last_event_timestamp(), Some(now - 2000));
    assert!(s.last_ingestion_time().is_some());
    assert_eq!(
        s.arn(),
        Some(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:log-stream:a").as_str())
    );
    let latest = ok(c
        .describe_log_streams()
        .log_group_name("g")
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .limit(2)
        .send()
        .await);
    assert_eq!(names(&latest), ["b", "a"]);
    let rest = ok(c
        .describe_log_streams()
        .log_group_name("g")
        .order_by(OrderBy::LastEventTime)
        .descending(true)
        .limit(2)
        .next_token(latest.next_token().unwrap())
        .send()
        .await);
    assert_eq!(names(&rest), ["c"]);
    assert_eq!(rest.next_token(), None);
    let prefixed = ok(c
        .describe_log_streams()
        .log_group_identifier(format!("arn:aws:logs:us-east-1:{ACCOUNT}:log-group:g:*"))
        .log_stream_name_prefix("b")
        .send()
        .await);
    assert_eq!(names(&prefixed), ["b"]);
    expect_error(
        c.describe_log_streams()
            .log_group_name("g")
            .order_by(OrderBy::LastEventTime)
            .log_stream_name_prefix("b")
            .send()
            .await,
        "InvalidParameterException",
        "Cannot order by LastEventTime with a logStreamNamePrefix.",
    );
    expect_error(
        c.describe_log_streams()
            .log_group_name("g")
            .log_group_identifier("g")
            .send()
            .await,
        "InvalidParameterException",
        "LogGroup name and LogGroup ARN are mutually exclusive parameters.",
    );
    expect_error(
        c.describe_log_streams().log_group_name("nope").send().await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );

    ok(c.delete_log_stream()
        .log_group_name("g")
        .log_stream_name("a")
        .send()
        .await);
    expect_error(
        c.delete_log_stream()
            .log_group_name("g")
            .log_stream_name("a")
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    );
    // Its events are gone from group-wide reads too.
    let all = ok(c.filter_log_events().log_group_name("g").send().await);
    let msgs: Vec<_> = all.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(msgs, ["c1", "b1"]);
}

#[tokio::test]
async fn put_log_events_batch_rules() {
    let server = common::Server::start(&["--in-memory"]);
    let c = client(&server.endpoint);
    setup(&c, "g", &["s"]).await;
    let now = now_ms();
    let send = |events: Vec<InputLogEvent>| {
        c.put_log_events()
            .log_group_name("g")
            .log_stream_name("s")
            .set_log_events(Some(events))
            .send()
    };
    expect_error(
        send(vec![event(now, "b"), event(now - 1, "a")]).await,
        "InvalidParameterException",
        "Log events in a single PutLogEvents request must be in chronological order.",
    );
    expect_error(
        send(vec![]).await,
        "InvalidParameterException",
        "1 validation error detected: Value '[]' at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    expect_error(
        send(vec![event(now, "")]).await,
        "InvalidParameterException",
        "1 validation error detected: Value '' at 'logEvents.1.member.message' failed to satisfy constraint: Member must have length greater than or equal to 1",
    );
    expect_error(
        send((0..10_001).map(|_| event(now, "x")).collect()).await,
        "InvalidParameterException",
        "1 validation error detected: Value 'list of 10001 events' at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to 10000",
    );
    // 1,048,576 bytes counts each message plus 26: one byte over fails.
    let big = "x".repeat(1_048_576 - 26 - 1);
    expect_error(
        send(vec![event(now, &big), event(now, "ab")]).await,
        "InvalidParameterException",
        "Upload too large: 1048603 bytes exceeds limit of 1048576",
    );
    // A batch may span 24 hours, not more.
    ok(send(vec![event(now - 23 * 3_600_000, "a"), event(now, "b")]).await);
    expect_error(
        send(vec![event(now - 25 * 3_600_000, "a"), event(now, "b")]).await,
        "InvalidParameterException",
        "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.",
    );
    expect_error(
        c.put_log_events()
            .log_group_name("g")
            .log_stream_name("nope")
            .log_events(event(now, "x"))
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    );
    expect_error(
        c.put_log_events()
            .log_group_name("nope")
            .log_stream_name("s")
            .log_events(event(now, "x"))
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );

    // Too old and too new events are rejected; the rest are stored.
    let out = ok(send(vec![
        event(now - 15 * DAY, "too old"),
        event(now, "kept 1"),
        event(now + 1000, "kept 2"),
        event(now + 3 * 3_600_000, "too new"),
    ])
    .await);
    let info = out.rejected_log_events_info().unwrap();
    assert_eq!(info.too_old_log_event_end_index(), Some(1));
    assert_eq!(info.too_new_log_event_start_index(), Some(3));
    assert_eq!(info.expired_log_event_end_index(), None);
    assert!(out.next_sequence_token().is_some());
    // Sequence tokens are accepted and ignored.
    ok(c.put_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .sequence_token("whatever")
        .log_events(event(now + 2000, "kept 3"))
        .send()
        .await);
    let got = ok(c
        .get_log_events()
        .log_group_name("g")
        .log_stream_name("s")
        .send()
        .await);
    let msgs: Vec<_> = got.events().iter().map(|e| e.message().unwrap()).collect();
    assert_eq!(msgs, ["a", "b", "kept 1", "kept 2", "kept 3"]);
}

#[tokio::test]
async fn get_log_events_tokens_and_windows() {
    let server = common::Server::start(&["--in-memory"]);
    let c = client(&server.endpoint);
    setup(&c, "g", &["s"]).await;
    let base = now_ms() - 60_000;
    put(
        &c,
        "g",
        "s",
        (0..10).map(|i| event(base + i, &format!("e{i}"))).collect(),
    )
    .await;
    let get = || c.get_log_events().log_group_name("g").log_stream_name("s");
    let msgs = |out: &aws_sdk_cloudwatchlogs::operation::get_log_events::GetLogEventsOutput| {
        out.events()
            .iter()
            .map(|e| e.message().unwrap().to_owned())
            .collect::<Vec<_>>()
    };

    // From the head, forward in pages of 4, then the same token at the end.
    let p1 = ok(get().start_from_head(true).limit(4).send().await);
    assert_eq!(msgs(&p1), ["e0", "e1", "e2", "e3"]);
    assert!(p1.events()[0].ingestion_time().is_some());
    let p2 = ok(get()
        .limit(4)
        .next_token(p1.next_forward_token().unwrap())
        .send()
        .await);
    assert_eq!(msgs(&p2), ["e4", "e5", "e6", "e7"]);
    let p3 = ok(get()
        .limit(4)
        .next_token(p2.next_forward_token().unwrap())
        .send()
        .await);
    assert_eq!(msgs(&p3), ["e8", "e9"]);
    let end = ok(get()
        .limit(4)
        .next_token(p3.next_forward_token().unwrap())
        .send()
        .await);
    assert!(end.events().is_empty());
    assert_eq!(end.next_forward_token(), p3.next_forward_token());

    // Without a token and not from the head: the newest events; then back.
    let tail = ok(get().limit(3).send().await);
    assert_eq!(msgs(&tail), ["e7", "e8", "e9"]);
    let back = ok(get()
        .limit(3)
        .next_token(tail.next_backward_token().unwrap())
        .send()
        .await);
    assert_eq!(msgs(&back), ["e4", "e5", "e6"]);

    // A follower: new events appear after the forward token.
    put(&c, "g", "s", vec![event(base + 20, "later")]).await;
    let follow = ok(get()
        .next_token(end.next_forward_token().unwrap())
        .send()
        .await);
    assert_eq!(msgs(&follow), ["later"]);

    // startTime inclusive, endTime exclusive.
    let window = ok(get()
        .start_time(base + 2)
        .end_time(base + 5)
        .start_from_head(true)
        .send()
        .await);
    assert_eq!(msgs(&window), ["e2", "e3", "e4"]);

    expect_error(
        get().next_token("x/123").send().await,
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    );
    expect_error(
        get().limit(10_001).send().await,
        "InvalidParameterException",
        "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10000",
    );
    expect_error(
        c.get_log_events()
            .log_group_name("g")
            .log_stream_name("nope")
            .send()
            .await,
        "ResourceNotFoundException",
        "The specified log stream does not exist.",
    );
}

#[tokio::test]
async fn filter_log_events_interleaves_matches_and_pages() {
    let server = common::Server::start(&["--in-memory"]);
    let c = client(&server.endpoint);
    setup(&c, "g", &["web-1", "web-2", "db"]).await;
    let base = now_ms() - 60_000;
    put(
        &c,
        "g",
        "web-1",
        vec![
            event(base, "ERROR disk full"),
            event(base + 2, r#"{"level":"INFO","latency":12}"#),
        ],
    )
    .await;
    put(
        &c,
        "g",
        "web-2",
        vec![
            event(base + 1, "WARN slow request"),
            event(base + 3, r#"{"level":"ERROR","latency":900}"#),
        ],
    )
    .await;
    put(&c, "g", "db", vec![event(base + 4, "ERROR timeout")]).await;

    let filter = || c.filter_log_events().log_group_name("g");
    let msgs =
        |out: &aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput| {
            out.events()
                .iter()
                .map(|e| e.message().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
    let all = ok(filter().send().await);
    assert_eq!(all.events().len(), 5);
    let streams: Vec<_> = all
        .events()
        .iter()
        .map(|e| e.log_stream_name().unwrap())
        .collect();
    assert_eq!(streams, ["web-1", "web-2", "web-1", "web-2", "db"]);
    assert!(all.events().iter().all(|e| e.event_id().is_some()));

    let errors = ok(filter().filter_pattern("ERROR").send().await);
    assert_eq!(
        msgs(&errors),
        [
            "ERROR disk full",
            r#"{"level":"ERROR","latency":900}"#,
            "ERROR timeout"
        ]
    );
    let phrase = ok(filter().filter_pattern("\"disk full\"").send().await);
    assert_eq!(msgs(&phrase), ["ERROR disk full"]);
    let json = ok(filter().filter_pattern("{ $.latency > 100 }").send().await);
    assert_eq!(msgs(&json), [r#"{"level":"ERROR","latency":900}"#]);
    let either = ok(filter().filter_pattern("?WARN ?timeout").send().await);
    assert_eq!(msgs(&either), ["WARN slow request", "ERROR timeout"]);

    let named = ok(filter()
        .log_stream_names("db")
        .log_stream_names("web-2")
        .send()
        .await);
    assert_eq!(named.events().len(), 3);
    let prefixed = ok(filter().log_stream_name_prefix("web").send().await);
    assert_eq!(prefixed.events().len(), 4);
    let timed = ok(filter()
        .start_time(base + 1)
        .end_time(base + 3)
        .send()
        .await);
    assert_eq!(
        timed.events().len(),
        3,
        "startTime and endTime are inclusive"
    );

    // Paging with nextToken visits every event once.
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ok(filter().limit(2).set_next_token(token.clone()).send().await);
        seen.extend(msgs(&page));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, msgs(&all));

    expect_error(
        filter()
            .log_stream_names("db")
            .log_stream_name_prefix("web")
            .send()
            .await,
        "InvalidParameterException",
        "You cannot specify both logStreamNames and logStreamNamePrefix.",
    );
    expect_error(
        filter().filter_pattern("{ $.latency > }").send().await,
        "InvalidParameterException",
        "Invalid filter pattern: expected a value after the operator",
    );
    expect_error(
        filter().filter_pattern("[ip, user]").send().await,
        "InvalidParameterException",
        "nimbus does not support space-delimited filter patterns ([...]) yet",
    );
    expect_error(
        filter().next_token("nothex").send().await,
        "InvalidParameterException",
        "The specified nextToken is invalid.",
    );
    expect_error(
        c.filter_log_events().log_group_name("nope").send().await,
        "ResourceNotFoundException",
        "The specified log group does not exist.",
    );
}

#[tokio::test]
async fn events_survive_sigkill() {
    let (_dir, data) = common::temp_data_dir();
    let data_arg = common::arg(&data).to_owned();
    let mut server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    setup(&c, "/aws/lambda/durable", &["s"]).await;
    let base = now_ms();
    put(
        &c,
        "/aws/lambda/durable",
        "s",
        (0..100)
            .map(|i| event(base + i, &format!("line {i}")))
            .collect(),
    )
    .await;
    ok(c.put_retention_policy()
        .log_group_name("/aws/lambda/durable")
        .retention_in_days(7)
        .send()
        .await);
    server.kill();

    let server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let groups = ok(c.describe_log_groups().send().await);
    assert_eq!(groups.log_groups()[0].retention_in_days(), Some(7));
    let got = ok(c
        .get_log_events()
        .log_group_name("/aws/lambda/durable")
        .log_stream_name("s")
        .start_from_head(true)
        .send()
        .await);
    assert_eq!(got.events().len(), 100);
    assert_eq!(got.events()[99].message(), Some("line 99"));
    // New events continue the stream after the old ones.
    put(
        &c,
        "/aws/lambda/durable",
        "s",
        vec![event(base + 500, "after")],
    )
    .await;
    let all = ok(c
        .filter_log_events()
        .log_group_name("/aws/lambda/durable")
        .send()
        .await);
    assert_eq!(all.events().len(), 101);
    assert_eq!(all.events()[100].message(), Some("after"));
}
