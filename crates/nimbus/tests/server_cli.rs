//! The `nimbus` binary as a process: start-up on an ephemeral port, health,
//! `--version`, graceful shutdown, the data-directory lock, the body limit,
//! front-end authentication errors, and HTTP/2 cleartext.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use bytes::Bytes;
use common::*;
use http_body_util::Full;

const BODY_LIMIT: usize = 16 * 1024 * 1024;

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[tokio::test]
async fn starts_on_port_zero_and_reports_health() {
    let server = Server::start(&[]);
    assert_ne!(
        server.addr.port(),
        0,
        "the printed address is the bound one"
    );
    assert!(
        server
            .output()
            .contains(&format!("listening on {}", server.endpoint)),
        "{}",
        server.output()
    );

    let request = http::Request::get(format!("{}/_nimbus/health", server.endpoint))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (head, body) = send(&http1_client(), request).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.headers["content-type"], "application/json");
    assert!(head.headers.contains_key("x-amzn-requestid"));
    let body = json(&body);
    assert_eq!(body["status"], "ok");
    assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        body["services"],
        serde_json::json!([
            "dynamodb",
            "dynamodbstreams",
            "sqs",
            "sns",
            "lambda",
            "logs"
        ])
    );
}

#[test]
fn version_flag() {
    let done = run(&["--version"], Duration::from_secs(10));
    assert!(done.status.success(), "{}", done.stderr);
    assert_eq!(
        done.stdout.trim(),
        format!("nimbus {}", env!("CARGO_PKG_VERSION"))
    );
}

/// A request whose body is still arriving when SIGTERM comes is answered,
/// then the server exits 0 and releases the data directory.
#[test]
fn sigterm_finishes_in_flight_request_then_exits_zero() {
    let mut server = Server::start(&[]);
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let body = b"{}";
    let head = format!(
        "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Amz-Date: 20240101T000000Z\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature=00\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body[..1]).unwrap();
    // Let the server start on the request before the signal.
    std::thread::sleep(Duration::from_millis(200));

    server.terminate();
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        server.is_running(),
        "exited with a request in flight; output:\n{}",
        server.output()
    );
    // New connections are refused once shutdown has begun.
    assert!(TcpStream::connect(server.addr).is_err());

    stream.write_all(&body[1..]).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let (head, body) = split_raw_response(&response);
    assert!(head.starts_with("HTTP/1.1 200"), "{response}");
    assert_eq!(json(body.as_bytes())["TableNames"], serde_json::json!([]));

    let status = server.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "output:\n{}", server.output());

    // The lock is released: the same directory opens again.
    let data_dir = server.data_dir.clone().unwrap();
    let again = Server::start(&["--data-dir", arg(&data_dir)]);
    drop(again);
}

#[test]
fn second_instance_on_same_data_dir_fails_fast() {
    let (_dir, data_dir) = temp_data_dir();
    let first = Server::start(&["--data-dir", arg(&data_dir)]);

    let second = run(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            arg(&data_dir),
        ],
        Duration::from_secs(10),
    );
    assert!(!second.status.success());
    assert!(
        second.stderr.contains("locked") && second.stderr.contains("another nimbus"),
        "stderr: {}",
        second.stderr
    );
    assert!(!second.stdout.contains("listening on"));
    assert!(
        second.elapsed < Duration::from_secs(2),
        "took {:?}",
        second.elapsed
    );
    drop(first);
}

#[test]
fn declared_oversized_body_is_refused_before_reading() {
    let server = Server::start(&["--in-memory"]);
    // Only the head is sent: the server must answer from Content-Length alone.
    let request = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n\
         X-Amz-Target: DynamoDB_20120810.PutItem\r\nContent-Length: {}\r\n\r\n",
        BODY_LIMIT + 1
    );
    let response = raw_exchange(server.addr, request.as_bytes(), Duration::from_secs(10));
    let (head, body) = split_raw_response(&response);
    assert!(head.starts_with("HTTP/1.1 413"), "{response}");
    assert!(head.to_ascii_lowercase().contains("x-amzn-requestid:"));
    let body = json(body.as_bytes());
    assert_eq!(
        body["__type"],
        "com.amazon.coral.service#RequestEntityTooLargeException"
    );
}

/// A client that sends the whole oversized body anyway (as botocore does)
/// still reads the 413 instead of a broken pipe, and can reuse the connection.
#[tokio::test]
async fn oversized_body_sent_in_full_gets_413() {
    let server = Server::start(&["--in-memory"]);
    let client = http1_client();
    let mut request = unsigned_dynamodb_request(&server.endpoint, "PutItem", "");
    *request.body_mut() = Full::new(Bytes::from(vec![b' '; BODY_LIMIT + 1]));
    let (head, body) = send(&client, request).await;
    assert_eq!(head.status, 413);
    assert_eq!(
        json(&body)["__type"],
        "com.amazon.coral.service#RequestEntityTooLargeException"
    );

    let request = http::Request::get(format!("{}/_nimbus/health", server.endpoint))
        .body(Full::new(Bytes::new()))
        .unwrap();
    assert_eq!(send(&client, request).await.0.status, 200);
}

#[tokio::test]
async fn chunked_oversized_body_is_refused() {
    let server = Server::start(&["--in-memory"]);
    let stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // Write in the background: the server stops reading at the limit, so
    // the writer may block or fail while the response is already there.
    let write = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let head = "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n\
                    X-Amz-Target: DynamoDB_20120810.ListTables\r\nX-Amz-Date: 20240101T000000Z\r\n\
                    Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, \
                    SignedHeaders=host, Signature=00\r\nTransfer-Encoding: chunked\r\n\r\n";
        writer.write_all(head.as_bytes()).await?;
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..(BODY_LIMIT / chunk.len() + 2) {
            writer
                .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .await?;
            writer.write_all(&chunk).await?;
            writer.write_all(b"\r\n").await?;
        }
        writer.write_all(b"0\r\n\r\n").await
    });
    let mut response = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        use tokio::io::AsyncReadExt;
        match tokio::time::timeout(Duration::from_secs(20), reader.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => {
                response.extend_from_slice(&buf[..n]);
                if response.windows(4).any(|w| w == b"\r\n\r\n") && response.ends_with(b"}") {
                    break;
                }
            }
            Err(_) => panic!("no response to an oversized chunked body"),
        }
    }
    write.abort();
    let response = String::from_utf8_lossy(&response);
    let (head, body) = split_raw_response(&response);
    assert!(head.starts_with("HTTP/1.1 413"), "{response}");
    assert_eq!(
        json(body.as_bytes())["__type"],
        "com.amazon.coral.service#RequestEntityTooLargeException"
    );
}

#[tokio::test]
async fn missing_authentication_is_rejected_like_dynamodb() {
    let server = Server::start(&["--in-memory"]);
    let request = unsigned_dynamodb_request(&server.endpoint, "ListTables", "{}");
    let (head, body) = send(&http1_client(), request).await;
    assert_eq!(head.status, 400);
    assert_eq!(head.headers["content-type"], "application/x-amz-json-1.0");
    assert!(head.headers.contains_key("x-amzn-requestid"));
    assert_eq!(
        head.headers["x-amz-crc32"],
        nimbus_wire::json::crc32(&body).to_string().as_str()
    );
    assert_eq!(
        json(&body),
        serde_json::json!({
            "__type": "com.amazon.coral.service#MissingAuthenticationTokenException",
            "message": "Request is missing Authentication Token",
        })
    );
}

#[tokio::test]
async fn h2c_prior_knowledge_works() {
    let server = Server::start(&["--in-memory"]);
    let client = h2c_client();

    let request = http::Request::get(format!("{}/_nimbus/health", server.endpoint))
        .body(Full::new(Bytes::new()))
        .unwrap();
    let (head, body) = send(&client, request).await;
    assert_eq!(head.version, http::Version::HTTP_2);
    assert_eq!(head.status, 200);
    assert_eq!(json(&body)["status"], "ok");

    // An AWS API call over the same kind of connection reaches the front end.
    let request = unsigned_dynamodb_request(&server.endpoint, "ListTables", "{}");
    let (head, body) = send(&client, request).await;
    assert_eq!(head.version, http::Version::HTTP_2);
    assert_eq!(head.status, 400);
    assert_eq!(
        json(&body)["__type"],
        "com.amazon.coral.service#MissingAuthenticationTokenException"
    );
}
