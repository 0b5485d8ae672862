//! Lambda workloads over restJson1: functions are created in setup from
//! packages zipped in memory, then invoked (`POST
//! /2015-03-31/functions/NAME/invocations`, RequestResponse) by the load loop.
//!
//! - `lambda-invoke-warm`: a Python echo function, warmed first; every
//!   answer must equal the payload sent.
//! - `lambda-cold-start[-node]`: one function per client. Each round first
//!   updates the function's configuration (an environment variable holding
//!   the round number; untimed), which retires its warm environments, then
//!   invokes it (timed). The handler returns the variable, so an answer
//!   from an environment started before the update, i.e. a warm one, is a
//!   wrong answer: every measured invoke really started an environment.
//! - `lambda-scale-200`: 200 clients invoke a function that sleeps 1 s, so
//!   200 environments must run at once; afterwards the server's child
//!   processes (the now idle environments) are counted and their memory
//!   summed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use serde_json::{json, Value};

use super::api::{means_unsupported, Api, ApiError};
use super::package::zip_base64;
use super::{
    decode_step, encode_step, After, BoxFuture, Prepared, Run, Setup, SetupError, Workload,
};
use crate::client::{Connection, Endpoint, Outcome};
use crate::loadgen::{Call, Driver, Rng};
use crate::servers;
use crate::sign::{SignedRequest, Signer};

/// Environments `lambda-scale-200` needs at once.
pub const SCALE_ENVIRONMENTS: usize = 200;
/// Pre-signed payloads the warm workload cycles through.
const WARM_PAYLOADS: usize = 64;
/// Sequential invokes of the unloaded latency probe after the warm run.
const PROBE_INVOKES: usize = 300;
/// The issue's bar for what Invoke adds over the handler, unloaded.
const WARM_P50_TARGET_MS: f64 = 1.0;
/// Any role ARN will do: nimbus does not enforce IAM, but validates the
/// shape as AWS does.
const ROLE: &str = "arn:aws:iam::000000000000:role/nimbus-bench";
const PYTHON: &str = "python3.12";
const NODE: &str = "nodejs20.x";
const ROUND_VARIABLE: &str = "NIMBUS_BENCH_ROUND";

const PY_ECHO: &str = "def handler(event, context):\n    return event\n";
const PY_SLEEP: &str =
    "import time\n\n\ndef handler(event, context):\n    time.sleep(1)\n    return event\n";
const PY_ROUND: &str = "import os\n\n\ndef handler(event, context):\n    return {\"event\": event, \"round\": os.environ.get(\"NIMBUS_BENCH_ROUND\")}\n";
const NODE_ROUND: &str = "exports.handler = async (event) => ({ event, round: process.env.NIMBUS_BENCH_ROUND ?? null });\n";

fn functions_path(name: &str) -> String {
    format!("/2015-03-31/functions/{name}")
}

fn invoke_path(name: &str) -> String {
    format!("/2015-03-31/functions/{name}/invocations")
}

/// A function to create: name, runtime, handler and its one source file.
struct FunctionSpec<'a> {
    name: String,
    runtime: &'a str,
    file: &'a str,
    source: &'a str,
    timeout: u32,
}

/// CreateFunction, then GetFunction until `State` is `Active` (bounded).
/// `Ok(Err(..))` is a server that does not implement Lambda.
async fn create_function(
    api: &mut Api,
    spec: &FunctionSpec<'_>,
) -> Result<Result<(), ApiError>, SetupError> {
    let zip = zip_base64(&[(spec.file, spec.source)]).map_err(SetupError)?;
    let module = spec.file.split('.').next().unwrap_or("index");
    let request = json!({
        "FunctionName": spec.name,
        "Runtime": spec.runtime,
        "Role": ROLE,
        "Handler": format!("{module}.handler"),
        "Code": {"ZipFile": zip},
        "Timeout": spec.timeout,
        "MemorySize": 128
    });
    match api
        .rest(Method::POST, "/2015-03-31/functions", &request)
        .await
    {
        Ok(_) => {}
        Err(e) if means_unsupported(&e.error_type) || e.error_type == "HTTP 404" => {
            return Ok(Err(e))
        }
        Err(e) => return Err(SetupError(format!("CreateFunction {}: {e}", spec.name))),
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got = api
            .rest(Method::GET, &functions_path(&spec.name), &Value::Null)
            .await
            .map_err(|e| SetupError(format!("GetFunction {}: {e}", spec.name)))?;
        let state = got
            .pointer("/Configuration/State")
            .and_then(Value::as_str)
            .unwrap_or("");
        match state {
            "Active" => return Ok(Ok(())),
            "Failed" => {
                return Err(SetupError(format!(
                    "function {} failed to become active: {}",
                    spec.name,
                    got.pointer("/Configuration/StateReason")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                )))
            }
            _ if Instant::now() > deadline => {
                return Err(SetupError(format!(
                    "function {} not Active after 60 s (State {state:?})",
                    spec.name
                )))
            }
            _ => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Sends one signed Invoke and returns its answer, as JSON.
async fn invoke_once(conn: &mut Connection, request: &SignedRequest) -> Result<Value, String> {
    match conn.send(request, Duration::from_secs(60)).await {
        Outcome::Ok(body) => {
            serde_json::from_slice(&body).map_err(|e| format!("unparseable Invoke answer: {e}"))
        }
        Outcome::Aws {
            error_type, body, ..
        } => Err(format!(
            "{error_type}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        )),
        Outcome::Transport(kind) => Err(format!("transport: {kind}")),
        Outcome::ClosedBeforeSend => Err("transport: connection closed".into()),
    }
}

pub async fn prepare(workload: Workload, setup: &Setup<'_>) -> Result<Prepared, SetupError> {
    let mut api = Api::lambda(setup.endpoint);
    let signer = Signer::new("lambda", &setup.endpoint.host);
    let base = format!("nimbus-bench-{}-{}", workload.name(), setup.run_id);
    let unsupported = |e: ApiError| Prepared::Unsupported {
        error_type: e.error_type,
        message: e.message,
    };
    match workload {
        Workload::LambdaInvokeWarm | Workload::LambdaScale200 => {
            let warm = workload == Workload::LambdaInvokeWarm;
            let spec = FunctionSpec {
                name: base.clone(),
                runtime: PYTHON,
                file: "index.py",
                source: if warm { PY_ECHO } else { PY_SLEEP },
                timeout: 30,
            };
            if let Err(e) = create_function(&mut api, &spec).await? {
                return Ok(unsupported(e));
            }
            let count = if warm {
                WARM_PAYLOADS
            } else {
                setup.connections
            };
            let driver = Arc::new(EchoDriver::new(&signer, &base, count, !warm)?);
            if warm {
                // Start one environment per client before measuring, so the
                // warm-up is not spent on cold starts.
                driver.warm(setup.endpoint, setup.connections).await?;
            }
            Ok(Prepared::Ready(Box::new(LambdaRun {
                driver,
                functions: vec![base],
                probe: warm,
                count_environments: !warm,
            })))
        }
        Workload::LambdaColdStart | Workload::LambdaColdStartNode => {
            let node = workload == Workload::LambdaColdStartNode;
            let names: Vec<String> = (0..setup.connections)
                .map(|w| format!("{base}-{w}"))
                .collect();
            for name in &names {
                let spec = FunctionSpec {
                    name: name.clone(),
                    runtime: if node { NODE } else { PYTHON },
                    file: if node { "index.js" } else { "index.py" },
                    source: if node { NODE_ROUND } else { PY_ROUND },
                    timeout: 30,
                };
                if let Err(e) = create_function(&mut api, &spec).await? {
                    return Ok(unsupported(e));
                }
            }
            let driver = Arc::new(ColdDriver::new(signer, names.clone())?);
            Ok(Prepared::Ready(Box::new(LambdaRun {
                driver,
                functions: names,
                probe: false,
                count_environments: false,
            })))
        }
        other => Err(SetupError(format!(
            "{} is not a Lambda workload",
            other.name()
        ))),
    }
}

/// A prepared Lambda workload: its functions, and what to look at after.
struct LambdaRun<D: Driver> {
    driver: Arc<D>,
    functions: Vec<String>,
    /// Measure unloaded Invoke latency after the run (warm workload).
    probe: bool,
    /// Count the server's environments and their memory after the run.
    count_environments: bool,
}

impl<D: Driver + Probe> Run for LambdaRun<D> {
    fn driver(&self) -> Arc<dyn Driver> {
        self.driver.clone()
    }

    fn after<'a>(&'a self, endpoint: &'a Endpoint, pid: Option<u32>) -> BoxFuture<'a, After> {
        Box::pin(async move {
            let mut notes = Vec::new();
            if self.count_environments {
                // Sample at once: the environments are idle now, and stay so
                // well inside the server's idle timeout.
                notes.push(match pid {
                    Some(pid) => environment_memory(pid),
                    None => "memory per environment not measured: the server was not started by the benchmark".into(),
                });
            }
            if self.probe {
                notes.push(match self.driver.probe(endpoint).await {
                    Ok(note) => note,
                    Err(e) => format!("unloaded latency probe failed: {e}"),
                });
            }
            After {
                read_back_failures: Vec::new(),
                notes,
            }
        })
    }

    fn teardown<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut api = Api::lambda(endpoint);
            for name in &self.functions {
                let _ = tokio::time::timeout(
                    Duration::from_secs(30),
                    api.rest(Method::DELETE, &functions_path(name), &Value::Null),
                )
                .await;
            }
        })
    }
}

/// Something to measure after the load, on an idle server.
trait Probe {
    fn probe<'a>(&'a self, _endpoint: &'a Endpoint) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async { Err("no probe".into()) })
    }
}

/// "200 environments idle: RSS 12.3 MiB each ..." from the server's
/// processes: each environment is one child process of nimbus, with (when
/// nimbus isolates it) its namespace's init and the runtime below it, so
/// memory is summed over every descendant and divided by the children.
fn environment_memory(pid: u32) -> String {
    let environments = servers::children(pid).len();
    let processes = servers::descendants(pid);
    if environments == 0 {
        return "no environment processes found under the server after the run".into();
    }
    let rss: u64 = processes.iter().filter_map(|&p| servers::rss_kib(p)).sum();
    let pss: Option<u64> = processes.iter().map(|&p| servers::pss_kib(p)).sum();
    let n = environments as f64;
    let mib = |kib: u64| kib as f64 / 1024.0;
    let mut note = format!(
        "{environments} environments ({} processes) idle after the run: RSS {:.1} MiB per environment ({:.0} MiB in all)",
        processes.len(),
        mib(rss) / n,
        mib(rss)
    );
    if let Some(pss) = pss {
        note.push_str(&format!(
            "; PSS (shared pages split between processes) {:.1} MiB per environment",
            mib(pss) / n
        ));
    }
    note
}

// ---- echo (warm, scale) ----

/// Invokes with pre-signed payloads; the answer must be the payload back.
struct EchoDriver {
    requests: Vec<SignedRequest>,
    payloads: Vec<Value>,
    /// Each client sends its own payload (scale) instead of a random one.
    one_per_client: bool,
}

impl EchoDriver {
    fn new(
        signer: &Signer,
        function: &str,
        count: usize,
        one_per_client: bool,
    ) -> Result<Self, SetupError> {
        let path = invoke_path(function);
        let payloads: Vec<Value> = (0..count.max(1))
            .map(|i| json!({"bench": "nimbus", "n": i, "text": format!("payload {i:04}")}))
            .collect();
        let requests = payloads
            .iter()
            .map(|p| {
                signer
                    .sign_rest(Method::POST, &path, Bytes::from(p.to_string()))
                    .map_err(|e| SetupError(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(EchoDriver {
            requests,
            payloads,
            one_per_client,
        })
    }

    /// Two rounds of `clients` concurrent invokes, so that many warm
    /// environments exist when the measurement starts.
    async fn warm(&self, endpoint: &Endpoint, clients: usize) -> Result<(), SetupError> {
        for _ in 0..2 {
            let mut tasks = Vec::new();
            for c in 0..clients {
                let endpoint = endpoint.clone();
                let request = self.requests[c % self.requests.len()].clone();
                tasks.push(tokio::spawn(async move {
                    let mut conn = Connection::open(&endpoint)
                        .await
                        .map_err(|e| format!("connect: {e}"))?;
                    invoke_once(&mut conn, &request).await.map(|_| ())
                }));
            }
            for t in tasks {
                t.await
                    .map_err(|e| SetupError(format!("warm-up task: {e}")))?
                    .map_err(|e| SetupError(format!("warm-up Invoke: {e}")))?;
            }
        }
        Ok(())
    }
}

impl Driver for EchoDriver {
    fn next_call(&self, worker: usize, _seq: u64, rng: &mut Rng) -> Result<Call, String> {
        let n = self.requests.len() as u64;
        let i = if self.one_per_client {
            worker as u64 % n
        } else {
            rng.below(n)
        };
        Ok(Call::timed(self.requests[i as usize].clone(), i))
    }

    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String> {
        let got: Value =
            serde_json::from_slice(body).map_err(|e| format!("unparseable Invoke answer: {e}"))?;
        let want = &self.payloads[call.expect as usize];
        if &got != want {
            return Err(format!(
                "Invoke echoed {} for payload {want}",
                got.to_string().chars().take(120).collect::<String>()
            ));
        }
        Ok(None)
    }
}

impl Probe for EchoDriver {
    /// Unloaded latency: one client, sequential invokes of a warm
    /// environment. The handler returns its event, so this is what Invoke
    /// adds over the handler's own (microseconds of) time.
    fn probe<'a>(&'a self, endpoint: &'a Endpoint) -> BoxFuture<'a, Result<String, String>> {
        Box::pin(async move {
            let mut conn = Connection::open(endpoint)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            let mut times = Vec::with_capacity(PROBE_INVOKES);
            for i in 0..PROBE_INVOKES + 20 {
                let k = i % self.requests.len();
                let start = Instant::now();
                let got = invoke_once(&mut conn, &self.requests[k]).await?;
                let took = start.elapsed();
                if got != self.payloads[k] {
                    return Err(format!("probe Invoke echoed {got}"));
                }
                // The first few settle the connection and environment.
                if i >= 20 {
                    times.push(took.as_secs_f64() * 1000.0);
                }
            }
            times.sort_by(f64::total_cmp);
            let q = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
            let p50 = q(0.5);
            let verdict = if p50 < WARM_P50_TARGET_MS {
                "PASS"
            } else {
                "FAIL"
            };
            Ok(format!(
                "unloaded Invoke (1 client, {PROBE_INVOKES} sequential invokes of the echo handler): p50 {p50:.2} ms, p99 {:.2} ms; {verdict} (target: < {WARM_P50_TARGET_MS:.0} ms p50 over the handler's own time)",
                q(0.99)
            ))
        })
    }
}

// ---- cold start ----

/// Per client: an untimed UpdateFunctionConfiguration that sets the round
/// number, then the timed Invoke, which must answer with that round number.
struct ColdDriver {
    signer: Signer,
    functions: Vec<String>,
    invokes: Vec<SignedRequest>,
}

const UPDATE: u64 = 0;
const INVOKE: u64 = 1;

fn cold_payload(worker: usize) -> Value {
    json!({"cold": worker})
}

impl ColdDriver {
    fn new(signer: Signer, functions: Vec<String>) -> Result<Self, SetupError> {
        let invokes = functions
            .iter()
            .enumerate()
            .map(|(w, f)| {
                signer
                    .sign_rest(
                        Method::POST,
                        &invoke_path(f),
                        Bytes::from(cold_payload(w).to_string()),
                    )
                    .map_err(|e| SetupError(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        Ok(ColdDriver {
            signer,
            functions,
            invokes,
        })
    }

    fn check_invoke(worker: usize, seq: u64, body: &[u8]) -> Result<(), String> {
        let got: Value =
            serde_json::from_slice(body).map_err(|e| format!("unparseable Invoke answer: {e}"))?;
        let want = json!({"event": cold_payload(worker), "round": seq.to_string()});
        if got == want {
            return Ok(());
        }
        if got.get("event") == want.get("event") {
            return Err(format!(
                "Invoke ran in an environment from before the update (round {} instead of {seq}): not a cold start",
                got.get("round").unwrap_or(&Value::Null)
            ));
        }
        Err(format!(
            "Invoke answered {} instead of {want}",
            got.to_string().chars().take(120).collect::<String>()
        ))
    }
}

impl Driver for ColdDriver {
    fn next_call(&self, worker: usize, seq: u64, _rng: &mut Rng) -> Result<Call, String> {
        let function = self
            .functions
            .get(worker)
            .ok_or_else(|| format!("no function for client {worker}"))?;
        let body = json!({"Environment": {"Variables": {ROUND_VARIABLE: seq.to_string()}}});
        let request = self
            .signer
            .sign_rest(
                Method::PUT,
                &format!("{}/configuration", functions_path(function)),
                Bytes::from(body.to_string()),
            )
            .map_err(|e| e.to_string())?;
        Ok(Call {
            request,
            expect: encode_step(UPDATE, worker, seq),
            timed: false,
        })
    }

    fn check(&self, call: &Call, body: &[u8]) -> Result<Option<Call>, String> {
        let (step, worker, seq) = decode_step(call.expect);
        if step == UPDATE {
            let out: Value = serde_json::from_slice(body)
                .map_err(|e| format!("unparseable UpdateFunctionConfiguration answer: {e}"))?;
            let round = out
                .pointer(&format!("/Environment/Variables/{ROUND_VARIABLE}"))
                .and_then(Value::as_str);
            if round != Some(seq.to_string().as_str()) {
                return Err(format!(
                    "UpdateFunctionConfiguration answered Environment {:?}, not round {seq}",
                    out.get("Environment")
                ));
            }
            return Ok(Some(Call::timed(
                self.invokes[worker].clone(),
                encode_step(INVOKE, worker, seq),
            )));
        }
        Self::check_invoke(worker, seq, body)?;
        Ok(None)
    }
}

impl Probe for ColdDriver {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warm_answer_is_not_a_cold_start() {
        let ok = json!({"event": {"cold": 2}, "round": "7"}).to_string();
        assert!(ColdDriver::check_invoke(2, 7, ok.as_bytes()).is_ok());
        let stale = json!({"event": {"cold": 2}, "round": "6"}).to_string();
        let err = ColdDriver::check_invoke(2, 7, stale.as_bytes()).unwrap_err();
        assert!(err.contains("not a cold start"), "{err}");
        assert!(ColdDriver::check_invoke(1, 7, ok.as_bytes()).is_err());
    }

    #[test]
    fn echo_answers_must_equal_the_payload() {
        let signer = Signer::new("lambda", "127.0.0.1:1");
        let d = EchoDriver::new(&signer, "f", 4, true).unwrap();
        let mut rng = Rng::new(1);
        let call = d.next_call(2, 1, &mut rng).unwrap();
        assert_eq!(call.expect, 2);
        assert_eq!(
            call.request.path.as_str(),
            "/2015-03-31/functions/f/invocations"
        );
        // Python's json.dumps spacing differs from ours: compared as JSON.
        let answer = br#"{"bench": "nimbus", "n": 2, "text": "payload 0002"}"#;
        assert!(d.check(&call, answer).unwrap().is_none());
        assert!(d.check(&call, br#"{"bench": "nimbus", "n": 3}"#).is_err());
    }
}
