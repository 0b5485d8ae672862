//! Many queues: create N queues, page through them with ListQueues, run
//! send / receive / delete rounds spread over all of them, then measure the
//! server at rest (memory) and with idle long-pollers parked on empty
//! queues (CPU), and delete the queues.
//!
//! Each client of the rounds owns the queues whose index is its own modulo
//! the client count, and walks them in turn, so a receive always finds the
//! message its round sent: an empty receive is a wrong answer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::client::Endpoint;
use crate::servers::{tree_cpu_seconds, tree_rss_kib};
use crate::workloads::api::Api;

#[derive(Debug, Clone)]
pub struct Plan {
    pub queues: usize,
    pub connections: usize,
    pub duration: Duration,
    pub pollers: usize,
    pub idle_window: Duration,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ManyQueuesResult {
    pub queues_created: usize,
    pub create_seconds: f64,
    pub creates_per_second: f64,
    pub list_pages: usize,
    pub list_queues_listed: usize,
    pub list_total_ms: f64,
    pub list_page_p50_ms: f64,
    pub list_page_max_ms: f64,
    pub rounds: u64,
    pub rounds_per_second: f64,
    pub round_p50_ms: f64,
    pub round_p99_ms: f64,
    pub rss_after_kib: Option<u64>,
    pub pollers: usize,
    pub poller_errors: u64,
    /// Server CPU with the idle long-pollers parked, percent of one core.
    pub idle_pollers_cpu_percent: Option<f64>,
    pub rss_with_pollers_kib: Option<u64>,
    pub delete_seconds: f64,
    pub errors: Vec<String>,
}

fn queue_name(run_id: &str, i: usize) -> String {
    format!("mq-{run_id}-{i:05}")
}

/// Runs `work` for every index in `0..n` on `connections` concurrent
/// clients; returns the first errors (at most 5).
async fn for_each_index<F, Fut>(
    endpoint: &Endpoint,
    n: usize,
    connections: usize,
    work: F,
) -> Vec<String>
where
    F: Fn(Api, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = (Api, Result<(), String>)> + Send,
{
    let mut set = JoinSet::new();
    for k in 0..connections.max(1) {
        let endpoint = endpoint.clone();
        let work = work.clone();
        let step = connections.max(1);
        set.spawn(async move {
            let mut api = Api::sqs(&endpoint);
            let mut errors = Vec::new();
            for i in (k..n).step_by(step) {
                let (back, r) = work(api, i).await;
                api = back;
                if let Err(e) = r {
                    errors.push(e);
                }
            }
            errors
        });
    }
    let mut errors = Vec::new();
    while let Some(r) = set.join_next().await {
        errors.extend(r.unwrap_or_else(|e| vec![format!("task failed: {e}")]));
    }
    errors.truncate(5);
    errors
}

pub async fn run(
    endpoint: &Endpoint,
    pid: Option<u32>,
    run_id: &str,
    plan: &Plan,
) -> ManyQueuesResult {
    let mut out = ManyQueuesResult::default();

    // Create.
    let started = Instant::now();
    let id = run_id.to_owned();
    out.errors.extend(
        for_each_index(
            endpoint,
            plan.queues,
            plan.connections,
            move |mut api, i| {
                let name = queue_name(&id, i);
                async move {
                    let r = api
                        .call("CreateQueue", &json!({"QueueName": name}))
                        .await
                        .map(drop)
                        .map_err(|e| format!("CreateQueue: {e}"));
                    (api, r)
                }
            },
        )
        .await,
    );
    out.create_seconds = started.elapsed().as_secs_f64();
    out.queues_created = plan.queues;
    out.creates_per_second = plan.queues as f64 / out.create_seconds.max(1e-9);

    // List, 1,000 a page. The rest of the run uses the URLs listed (names
    // sort by index), as each server spells them.
    let mut urls: Vec<String> = Vec::with_capacity(plan.queues);
    let mut api = Api::sqs(endpoint);
    let prefix = format!("mq-{run_id}-");
    let mut token: Option<String> = None;
    let mut pages = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    let started = Instant::now();
    loop {
        let mut body = json!({"QueueNamePrefix": prefix, "MaxResults": 1000});
        if let Some(t) = &token {
            body["NextToken"] = Value::String(t.clone());
        }
        let page_started = Instant::now();
        match api.call("ListQueues", &body).await {
            Ok(v) => {
                let _ = pages.record(page_started.elapsed().as_micros().max(1) as u64);
                out.list_pages += 1;
                if let Some(listed) = v["QueueUrls"].as_array() {
                    urls.extend(listed.iter().filter_map(|u| u.as_str().map(str::to_owned)));
                }
                token = v["NextToken"].as_str().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            Err(e) => {
                out.errors.push(format!("ListQueues: {e}"));
                break;
            }
        }
    }
    out.list_total_ms = started.elapsed().as_secs_f64() * 1000.0;
    out.list_queues_listed = urls.len();
    urls.sort();
    urls.dedup();
    if urls.is_empty() {
        out.errors.push("no queues to run rounds on".into());
        return out;
    }
    out.list_page_p50_ms = pages.value_at_quantile(0.5) as f64 / 1000.0;
    out.list_page_max_ms = pages.max() as f64 / 1000.0;
    if out.list_queues_listed != plan.queues {
        out.errors.push(format!(
            "ListQueues listed {} of {} queues",
            out.list_queues_listed, plan.queues
        ));
    }

    // Send / receive / delete rounds, spread over every queue.
    let stop_at = Instant::now() + plan.duration;
    let mut set = JoinSet::new();
    let clients = plan.connections.max(1);
    for k in 0..clients {
        let endpoint = endpoint.clone();
        let mine: Vec<String> = urls.iter().skip(k).step_by(clients).cloned().collect();
        set.spawn(async move {
            let mut api = Api::sqs(&endpoint);
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
            let mut errors = Vec::new();
            let mut n = 0u64;
            for url in mine.iter().cycle() {
                if Instant::now() >= stop_at || mine.is_empty() {
                    break;
                }
                let started = Instant::now();
                let body = format!("round {k} {n}");
                let round = async {
                    api.call(
                        "SendMessage",
                        &json!({"QueueUrl": url, "MessageBody": body}),
                    )
                    .await
                    .map_err(|e| format!("SendMessage: {e}"))?;
                    let got = api
                        .call(
                            "ReceiveMessage",
                            &json!({"QueueUrl": url, "WaitTimeSeconds": 1}),
                        )
                        .await
                        .map_err(|e| format!("ReceiveMessage: {e}"))?;
                    let m = &got["Messages"][0];
                    if m["Body"] != body.as_str() {
                        return Err(format!("ReceiveMessage answered {got}"));
                    }
                    let handle = m["ReceiptHandle"].as_str().unwrap_or_default();
                    api.call(
                        "DeleteMessage",
                        &json!({"QueueUrl": url, "ReceiptHandle": handle}),
                    )
                    .await
                    .map_err(|e| format!("DeleteMessage: {e}"))?;
                    Ok::<_, String>(())
                };
                match round.await {
                    Ok(()) => {
                        let _ = h.record(started.elapsed().as_micros().max(1) as u64);
                        n += 1;
                    }
                    Err(e) if errors.len() < 5 => errors.push(e),
                    Err(_) => {}
                }
            }
            (h, errors)
        });
    }
    let mut rounds = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("bounds");
    while let Some(r) = set.join_next().await {
        match r {
            Ok((h, errors)) => {
                let _ = rounds.add(h);
                out.errors.extend(errors);
            }
            Err(e) => out.errors.push(format!("round task failed: {e}")),
        }
    }
    out.rounds = rounds.len();
    out.rounds_per_second = rounds.len() as f64 / plan.duration.as_secs_f64();
    out.round_p50_ms = rounds.value_at_quantile(0.5) as f64 / 1000.0;
    out.round_p99_ms = rounds.value_at_quantile(0.99) as f64 / 1000.0;

    // At rest.
    tokio::time::sleep(Duration::from_secs(2)).await;
    out.rss_after_kib = pid.and_then(tree_rss_kib);

    // Idle long-pollers, one connection each, on empty queues.
    out.pollers = plan.pollers;
    let stop = Arc::new(AtomicBool::new(false));
    let mut pollers = JoinSet::new();
    for i in 0..plan.pollers {
        let endpoint = endpoint.clone();
        let url = urls[i % urls.len()].clone();
        let stop = stop.clone();
        pollers.spawn(async move {
            let mut api = Api::sqs(&endpoint);
            let mut errors = 0u64;
            while !stop.load(Ordering::Relaxed) {
                if api
                    .call(
                        "ReceiveMessage",
                        &json!({"QueueUrl": url, "WaitTimeSeconds": 20}),
                    )
                    .await
                    .is_err()
                {
                    errors += 1;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            errors
        });
    }
    // Let every poller park before measuring.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let cpu_before = pid.and_then(tree_cpu_seconds);
    let window = Instant::now();
    tokio::time::sleep(plan.idle_window).await;
    if let (Some(before), Some(after)) = (cpu_before, pid.and_then(tree_cpu_seconds)) {
        out.idle_pollers_cpu_percent =
            Some((after - before) / window.elapsed().as_secs_f64() * 100.0);
    }
    out.rss_with_pollers_kib = pid.and_then(tree_rss_kib);
    stop.store(true, Ordering::Relaxed);
    // Pollers end when their current 20-second poll does; do not wait.
    pollers.abort_all();
    while let Some(r) = pollers.join_next().await {
        if let Ok(errors) = r {
            out.poller_errors += errors;
        }
    }

    // Delete.
    let started = Instant::now();
    let n = urls.len();
    let all = Arc::new(urls);
    out.errors.extend(
        for_each_index(endpoint, n, plan.connections, move |mut api, i| {
            let url = all[i].clone();
            async move {
                let r = api
                    .call("DeleteQueue", &json!({"QueueUrl": url}))
                    .await
                    .map(drop)
                    .map_err(|e| format!("DeleteQueue: {e}"));
                (api, r)
            }
        })
        .await,
    );
    out.delete_seconds = started.elapsed().as_secs_f64();
    out.errors.truncate(10);
    out
}
