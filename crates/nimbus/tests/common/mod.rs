//! Shared helpers for integration tests that run the real `nimbus` binary.
//!
//! - [`Server::start`] launches `nimbus serve --bind 127.0.0.1:0` (plus your
//!   arguments) with a fresh temporary data directory unless you pass
//!   `--data-dir` or `--in-memory`, waits for the "listening on" line, and
//!   gives you its address. The process is killed when the `Server` drops.
//! - [`Server::terminate`], [`Server::kill`] and [`Server::wait_exit`] stop it
//!   the graceful or the hard way and report how it exited.
//! - [`run`] runs a short-lived `nimbus` command (`--version`, a second
//!   `serve` that must fail) to completion with a deadline.
//! - [`http1_client`], [`h2c_client`] and [`send`] make plain HTTP calls with
//!   hyper-util's legacy client; [`raw_exchange`] speaks raw bytes over TCP
//!   for requests no well-behaved client would send.
//!
//! Each test binary uses a different subset, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// Path of the binary under test, built by cargo for integration tests.
pub const NIMBUS: &str = env!("CARGO_BIN_EXE_nimbus");

/// How long a server may take to print its address before the test fails.
/// Start-up takes milliseconds; the margin is for loaded CI machines.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `nimbus serve`.
pub struct Server {
    /// `http://127.0.0.1:PORT`, ready for an SDK's `endpoint_url`.
    pub endpoint: String,
    /// The address the server actually bound.
    pub addr: SocketAddr,
    /// The data directory in use (`None` with `--in-memory`).
    pub data_dir: Option<PathBuf>,
    child: Child,
    output: Arc<Mutex<String>>,
    /// Owns the temporary data directory, if `start` made one.
    _temp_dir: Option<tempfile::TempDir>,
    exit: Option<ExitStatus>,
}

impl Server {
    /// Starts `nimbus serve --bind 127.0.0.1:0 <args>` and waits until it
    /// prints its address. Without `--data-dir` or `--in-memory` in `args`, a
    /// fresh temporary data directory is used and deleted when the `Server`
    /// drops. Panics (with the server's output) if it does not come up.
    pub fn start(args: &[&str]) -> Server {
        let chooses_data = args
            .iter()
            .any(|a| *a == "--in-memory" || *a == "--data-dir");
        let temp_dir = (!chooses_data).then(|| tempfile::tempdir().expect("create a temp dir"));
        let data_dir = match &temp_dir {
            Some(dir) => Some(dir.path().join("data")),
            None => args
                .iter()
                .position(|a| *a == "--data-dir")
                .and_then(|i| args.get(i + 1))
                .map(PathBuf::from),
        };

        let mut command = Command::new(NIMBUS);
        command.args(["serve", "--bind", "127.0.0.1:0"]).args(args);
        if let (Some(dir), Some(_)) = (&data_dir, &temp_dir) {
            command.arg("--data-dir").arg(dir);
        }
        let mut child = command
            .env_remove("NIMBUS_BIND")
            .env_remove("NIMBUS_DATA_DIR")
            .env_remove("NIMBUS_IN_MEMORY")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn nimbus");

        let output = Arc::new(Mutex::new(String::new()));
        let (found_tx, found_rx) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        collect_lines(stdout, Arc::clone(&output), Some(found_tx.clone()));
        collect_lines(stderr, Arc::clone(&output), Some(found_tx));

        let addr = match found_rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                // Give the reader threads a moment to collect the last lines.
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "nimbus did not report a listening address within {STARTUP_TIMEOUT:?}; output:\n{}",
                    output.lock().unwrap()
                );
            }
        };
        Server {
            endpoint: format!("http://{addr}"),
            addr,
            data_dir,
            child,
            output,
            _temp_dir: temp_dir,
            exit: None,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the server wrote to stdout and stderr so far.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Sends SIGTERM (graceful shutdown); does not wait.
    pub fn terminate(&self) {
        signal(self.pid(), "TERM");
    }

    /// Sends SIGINT (Ctrl-C); does not wait.
    pub fn interrupt(&self) {
        signal(self.pid(), "INT");
    }

    /// True while the process has not exited.
    pub fn is_running(&mut self) -> bool {
        self.exit.is_none() && matches!(self.child.try_wait(), Ok(None))
    }

    /// Waits up to `timeout` for the process to exit and returns its status.
    /// Panics, with the output, if it is still running then.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        if let Some(status) = self.exit {
            return status;
        }
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll nimbus") {
                self.exit = Some(status);
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "nimbus still running {timeout:?} later; output:\n{}",
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills the process with SIGKILL (no shutdown at all, as in a crash)
    /// and waits for it to die.
    pub fn kill(&mut self) {
        if self.exit.is_none() {
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads `stream` line by line into `output`; sends the address of the first
/// "listening on http://ADDR" line to `found`.
fn collect_lines(
    stream: impl Read + Send + 'static,
    output: Arc<Mutex<String>>,
    found: Option<mpsc::Sender<SocketAddr>>,
) {
    std::thread::spawn(move || {
        let mut found = found;
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { break };
            {
                let mut out = output.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
            // After recording, so a caller woken by the address sees the line.
            if let Some(addr) = listening_addr(&line) {
                if let Some(tx) = found.take() {
                    let _ = tx.send(addr);
                }
            }
        }
    });
}

/// Parses the address out of `... listening on http://127.0.0.1:PORT ...`.
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("listening on http://")? + "listening on http://".len()..];
    rest.split_whitespace()
        .next()?
        .trim_end_matches('/')
        .parse()
        .ok()
}

/// Sends `kill -<sig> <pid>` (no libc dependency needed).
fn signal(pid: u32, sig: &str) {
    let status = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{sig} {pid} failed");
}

/// How a short-lived command ended.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

/// Runs `nimbus <args>` to completion, failing the test if it takes longer
/// than `timeout` (the process is killed then).
pub fn run(args: &[&str], timeout: Duration) -> Finished {
    let started = Instant::now();
    let mut child = Command::new(NIMBUS)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nimbus");
    let stdout = Arc::new(Mutex::new(String::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    collect_lines(
        child.stdout.take().expect("stdout"),
        Arc::clone(&stdout),
        None,
    );
    collect_lines(
        child.stderr.take().expect("stderr"),
        Arc::clone(&stderr),
        None,
    );
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll nimbus") {
            break status;
        }
        if started.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "nimbus {args:?} still running after {timeout:?}; stderr:\n{}",
                stderr.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let elapsed = started.elapsed();
    // The pipes close at exit; let the readers drain them.
    std::thread::sleep(Duration::from_millis(50));
    let stdout = stdout.lock().unwrap().clone();
    let stderr = stderr.lock().unwrap().clone();
    Finished {
        status,
        stdout,
        stderr,
        elapsed,
    }
}

/// A fresh, empty temporary directory and the path of a data directory
/// inside it (not yet created), for tests that restart a server on the
/// same data.
pub fn temp_data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("create a temp dir");
    let data = dir.path().join("data");
    (dir, data)
}

/// A path as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// An HTTP/1.1 client (keep-alive pool).
pub fn http1_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// An HTTP/2 client over cleartext with prior knowledge (h2c, no upgrade).
pub fn h2c_client() -> HttpClient {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http()
}

/// Sends `request` and returns the response head and the whole body.
pub async fn send(
    client: &HttpClient,
    request: http::Request<Full<Bytes>>,
) -> (http::response::Parts, Bytes) {
    let response = client.request(request).await.expect("HTTP request");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("response body").to_bytes();
    (parts, body)
}

/// An unsigned awsJson 1.0 request for a DynamoDB operation.
pub fn unsigned_dynamodb_request(
    endpoint: &str,
    operation: &str,
    body: &str,
) -> http::Request<Full<Bytes>> {
    http::Request::post(format!("{endpoint}/"))
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("valid request")
}

/// Writes `request` to a new TCP connection and reads one HTTP/1.1 response
/// (head plus a `Content-Length` body), or whatever arrived before the
/// server closed the connection or `timeout` passed. For requests a real
/// client would refuse to send.
pub fn raw_exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> String {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(timeout)).expect("set timeout");
    stream.write_all(request).expect("send request");
    read_raw_response(&mut stream)
}

/// Reads one HTTP/1.1 response with a `Content-Length` body from `stream`
/// (stopping early at EOF, an error or the stream's read timeout).
pub fn read_raw_response(stream: &mut impl Read) -> String {
    let mut response = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if response.len() >= end + 4 + length {
                break;
            }
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => response.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&response).into_owned()
}

/// Splits a raw HTTP/1.1 response into its head and body at the blank line.
pub fn split_raw_response(raw: &str) -> (&str, &str) {
    raw.split_once("\r\n\r\n").unwrap_or((raw, ""))
}

/// Calls nimbus's clock control: `POST /_nimbus/clock/advance` with `body`
/// (e.g. `{"seconds": 601}`), or `GET /_nimbus/clock` when `body` is
/// `None`. Returns the status and the JSON answer.
pub async fn clock_call(
    endpoint: &str,
    body: Option<&str>,
) -> (http::StatusCode, serde_json::Value) {
    let request = match body {
        Some(body) => http::Request::post(format!("{endpoint}/_nimbus/clock/advance"))
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_owned()))),
        None => {
            http::Request::get(format!("{endpoint}/_nimbus/clock")).body(Full::new(Bytes::new()))
        }
    }
    .expect("request builds");
    let (parts, bytes) = send(&http1_client(), request).await;
    let value = serde_json::from_slice(&bytes).expect("clock answers are JSON");
    (parts.status, value)
}

/// Moves the server's clock forward by `seconds`; panics if refused.
pub async fn advance_clock(endpoint: &str, seconds: u64) -> serde_json::Value {
    let (status, value) = clock_call(endpoint, Some(&format!("{{\"seconds\": {seconds}}}"))).await;
    assert_eq!(status, http::StatusCode::OK, "advance refused: {value}");
    value
}
