//! CreateEventSourceMapping, GetEventSourceMapping,
//! UpdateEventSourceMapping, DeleteEventSourceMapping,
//! ListEventSourceMappings. SQS queues are supported sources; the pollers
//! live in `esm/`.

use nimbus_store::ReadView;
use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::Value;

use crate::error::{LambdaError, Result};
use crate::esm::{self, mapping_json, mapping_key, Mapping};
use crate::names;
use crate::queues::QueueError;
use crate::{Lambda, Reply, Request};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MappingInput {
    event_source_arn: Option<String>,
    function_name: Option<String>,
    enabled: Option<bool>,
    batch_size: Option<i64>,
    maximum_batching_window_in_seconds: Option<i64>,
    function_response_types: Option<Vec<String>>,
    scaling_config: Option<ScalingInput>,
    filter_criteria: Option<Value>,
    starting_position: Option<String>,
    starting_position_timestamp: Option<Value>,
    parallelization_factor: Option<i64>,
    bisect_batch_on_function_error: Option<bool>,
    maximum_retry_attempts: Option<i64>,
    maximum_record_age_in_seconds: Option<i64>,
    destination_config: Option<Value>,
    tumbling_window_in_seconds: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ScalingInput {
    maximum_concurrency: Option<i64>,
}

pub async fn create_event_source_mapping(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
) -> Result<Reply> {
    let _serialised = lambda.inner().mapping_changes.lock().await;
    let input: MappingInput = req.json()?;
    let source = input
        .event_source_arn
        .clone()
        .ok_or_else(|| LambdaError::null("eventSourceArn"))?;
    let function = input
        .function_name
        .clone()
        .ok_or_else(|| LambdaError::null("functionName"))?;
    check_source_kind(&source)?;
    let r = names::parse_function_ref(&function)?;
    let f = lambda
        .inner()
        .catalog
        .get(&ctx.account_id, &ctx.region, &r.name)
        .ok_or_else(|| super::not_found(ctx, &r.name, r.qualifier.as_deref()))?;
    if let Some(q) = &r.qualifier {
        if f.version(q).is_none() && !f.aliases.contains_key(q) {
            return Err(super::not_found(ctx, &r.name, Some(q)));
        }
    }
    let mut mapping = Mapping {
        uuid: uuid::Uuid::new_v4().to_string(),
        account: ctx.account_id.clone(),
        region: ctx.region.clone(),
        event_source_arn: source.clone(),
        function_name: f.name.clone(),
        qualifier: r.qualifier.clone(),
        // AWS's defaults: 10 for queues, 100 for streams.
        batch_size: if esm::is_stream(&source) { 100 } else { 10 },
        maximum_batching_window: 0,
        enabled: true,
        report_batch_item_failures: false,
        maximum_concurrency: None,
        filter_criteria: None,
        last_modified_ms: lambda.inner().clock.now_ms(),
        starting_position: None,
        maximum_retry_attempts: -1,
        maximum_record_age: -1,
        bisect_on_error: false,
        parallelization_factor: 1,
        on_failure: None,
        tumbling_window: 0,
    };
    if esm::is_stream(&source) {
        let position = input.starting_position.clone().ok_or_else(|| {
            LambdaError::invalid("StartingPosition is required for DynamoDB stream event sources.")
        })?;
        if position != "TRIM_HORIZON" && position != "LATEST" {
            return Err(LambdaError::invalid(format!(
                "Unsupported starting position for DynamoDB streams: {position}. Use TRIM_HORIZON or LATEST."
            )));
        }
        mapping.starting_position = Some(position);
        apply_stream_input(&mut mapping, input)?;
        let start = stream_start(lambda, &mapping)?;
        // The mapping and where it starts, in one write: a crash between
        // the two would make a LATEST mapping replay the whole stream.
        let key = mapping_key(&mapping.uuid);
        let checkpoint = esm::checkpoint_key(&mapping.uuid);
        let value =
            serde_json::to_vec(&mapping).map_err(|e| LambdaError::Service(e.to_string()))?;
        lambda
            .inner()
            .store
            .write(move |txn| {
                txn.put(&key, &value);
                if let Some(sequence) = start {
                    txn.put(&checkpoint, sequence.as_bytes());
                }
                Ok::<_, LambdaError>(())
            })
            .await?;
        esm::apply(lambda, &mapping);
        tracing::info!(
            "lambda: event source mapping {} from {} to {}",
            mapping.uuid,
            source,
            mapping.function_arn()
        );
        return Ok(Reply::json(
            202,
            &mapping_json(lambda, &mapping, Some("Creating")),
        ));
    }
    apply_input(&mut mapping, input)?;
    let timeout = f
        .version(r.qualifier.as_deref().unwrap_or(names::LATEST))
        .map_or(f.latest.timeout, |v| v.timeout);
    check_queue(lambda, &mapping, timeout).await?;
    let existing = esm::load_all(lambda)?;
    if let Some(other) = existing.iter().find(|m| {
        m.event_source_arn == source
            && m.function_name == mapping.function_name
            && m.account == mapping.account
    }) {
        return Err(LambdaError::ResourceConflict(format!(
            "An event source mapping with SQS arn (\" {source} \") and function (\" {} \") already exists. Please update or delete the existing mapping with UUID {}",
            mapping.function_name, other.uuid
        )));
    }
    save(lambda, &mapping).await?;
    esm::apply(lambda, &mapping);
    tracing::info!(
        "lambda: event source mapping {} from {} to {}",
        mapping.uuid,
        source,
        mapping.function_arn()
    );
    Ok(Reply::json(
        202,
        &mapping_json(lambda, &mapping, Some("Creating")),
    ))
}

pub fn get_event_source_mapping(
    lambda: &Lambda,
    ctx: &RequestContext,
    uuid: &str,
) -> Result<Reply> {
    let m = load(lambda, ctx, uuid)?;
    Ok(Reply::json(200, &mapping_json(lambda, &m, None)))
}

pub async fn update_event_source_mapping(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    uuid: &str,
) -> Result<Reply> {
    let _serialised = lambda.inner().mapping_changes.lock().await;
    let mut input: MappingInput = req.json()?;
    let mut m = load(lambda, ctx, uuid)?;
    let was_enabled = m.enabled;
    if input.event_source_arn.is_some() {
        return Err(LambdaError::invalid("EventSourceArn cannot be updated."));
    }
    if let Some(function) = input.function_name.take() {
        let r = names::parse_function_ref(&function)?;
        let f = lambda
            .inner()
            .catalog
            .get(&ctx.account_id, &ctx.region, &r.name)
            .ok_or_else(|| super::not_found(ctx, &r.name, r.qualifier.as_deref()))?;
        m.function_name = f.name.clone();
        m.qualifier = r.qualifier;
    }
    if esm::is_stream(&m.event_source_arn) {
        if input.starting_position.is_some() {
            return Err(LambdaError::invalid("StartingPosition cannot be updated."));
        }
        apply_stream_input(&mut m, input)?;
    } else {
        apply_input(&mut m, input)?;
    }
    m.last_modified_ms = lambda.inner().clock.now_ms();
    save(lambda, &m).await?;
    esm::apply(lambda, &m);
    Ok(Reply::json(
        202,
        &mapping_json(lambda, &m, Some(transition(was_enabled, m.enabled))),
    ))
}

pub async fn delete_event_source_mapping(
    lambda: &Lambda,
    ctx: &RequestContext,
    uuid: &str,
) -> Result<Reply> {
    let _serialised = lambda.inner().mapping_changes.lock().await;
    let m = load(lambda, ctx, uuid)?;
    let key = mapping_key(&m.uuid);
    let checkpoint = esm::checkpoint_key(&m.uuid);
    let window = esm::window_key(&m.uuid);
    lambda
        .inner()
        .store
        .write(move |txn| {
            txn.delete(&key);
            txn.delete(&checkpoint);
            txn.delete(&window);
            Ok::<_, LambdaError>(())
        })
        .await?;
    let out = mapping_json(lambda, &m, Some("Deleting"));
    lambda.inner().pollers.forget(&m.uuid);
    Ok(Reply::json(202, &out))
}

pub fn list_event_source_mappings(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
) -> Result<Reply> {
    let limit = super::max_items(req)?;
    let source = req.query("EventSourceArn");
    let function = req
        .query("FunctionName")
        .map(|f| names::parse_function_ref(&f))
        .transpose()?;
    let entries = esm::load_all(lambda)?
        .into_iter()
        .filter(|m| m.account == ctx.account_id && m.region == ctx.region)
        .filter(|m| source.as_deref().is_none_or(|s| m.event_source_arn == s))
        .filter(|m| {
            function.as_ref().is_none_or(|f| {
                m.function_name == f.name && (f.qualifier.is_none() || f.qualifier == m.qualifier)
            })
        })
        .map(|m| (m.uuid.clone(), mapping_json(lambda, &m, None)))
        .collect();
    let (page, next) = super::functions::paginate(entries, req.query("Marker").as_deref(), limit)?;
    Ok(Reply::json(
        200,
        &super::page_json("EventSourceMappings", page, next),
    ))
}

/// The state an update answers with: AWS's Enabling / Disabling when the
/// mapping is switched on or off, Updating otherwise.
fn transition(was_enabled: bool, enabled: bool) -> &'static str {
    match (was_enabled, enabled) {
        (false, true) => "Enabling",
        (true, false) => "Disabling",
        _ => "Updating",
    }
}

/// Applies the optional members of a Create or Update request for a
/// DynamoDB stream source.
fn apply_stream_input(m: &mut Mapping, input: MappingInput) -> Result<()> {
    if input.scaling_config.is_some() {
        return Err(LambdaError::invalid(
            "Unsupported parameter for DynamoDB stream event source: ScalingConfig",
        ));
    }
    if let Some(enabled) = input.enabled {
        m.enabled = enabled;
    }
    if let Some(n) = input.batch_size {
        m.batch_size = LambdaError::bounded(n, "batchSize", 1, 10_000)?;
    }
    if let Some(n) = input.maximum_batching_window_in_seconds {
        m.maximum_batching_window =
            LambdaError::bounded(n, "maximumBatchingWindowInSeconds", 0, 300)?;
    }
    if let Some(n) = input.maximum_retry_attempts {
        if n != -1 {
            LambdaError::bounded(n, "maximumRetryAttempts", -1, 10_000)?;
        }
        m.maximum_retry_attempts = n;
    }
    if let Some(n) = input.maximum_record_age_in_seconds {
        if n != -1 {
            LambdaError::bounded(n, "maximumRecordAgeInSeconds", 60, 604_800)?;
        }
        m.maximum_record_age = n;
    }
    if let Some(b) = input.bisect_batch_on_function_error {
        m.bisect_on_error = b;
    }
    if let Some(n) = input.parallelization_factor {
        m.parallelization_factor = LambdaError::bounded(n, "parallelizationFactor", 1, 10)?;
    }
    if let Some(n) = input.tumbling_window_in_seconds {
        m.tumbling_window = LambdaError::bounded(n, "tumblingWindowInSeconds", 0, 900)?;
    }
    if let Some(config) = input.destination_config {
        let destination = config
            .get("OnFailure")
            .and_then(|d| d.get("Destination"))
            .and_then(Value::as_str)
            .filter(|d| !d.is_empty())
            .map(str::to_owned);
        if let Some(d) = &destination {
            use crate::destinations::DestinationKind;
            if !matches!(
                crate::destinations::kind_of(d)?,
                DestinationKind::Sqs | DestinationKind::Sns
            ) {
                return Err(LambdaError::invalid(format!(
                    "The OnFailure destination {d} of a stream event source must be an SQS queue or an SNS topic."
                )));
            }
        }
        m.on_failure = destination;
    }
    if let Some(types) = input.function_response_types {
        if let Some(bad) = types.iter().find(|t| *t != "ReportBatchItemFailures") {
            return Err(LambdaError::constraint(
                format!("[{bad}]"),
                "functionResponseTypes",
                "Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]",
            ));
        }
        m.report_batch_item_failures = !types.is_empty();
    }
    if let Some(filter) = input.filter_criteria {
        let patterns = filter_patterns(&filter)?;
        nimbus_patterns::FilterCriteria::parse(&patterns)
            .map_err(|e| LambdaError::invalid(e.to_string()))?;
        m.filter_criteria = (!patterns.is_empty()).then_some(filter);
    }
    Ok(())
}

/// Where a new stream mapping starts: nothing (TRIM_HORIZON, the oldest
/// retained record) or the stream's current end (LATEST). Also checks that
/// the stream exists.
fn stream_start(lambda: &Lambda, m: &Mapping) -> Result<Option<String>> {
    let Some(streams) = lambda.inner().streams.get() else {
        return Err(LambdaError::Service(
            "nimbus has no DynamoDB Streams service attached".into(),
        ));
    };
    // The newest record's sequence number: a LATEST mapping starts after
    // it; asking also checks that the stream exists.
    let last = (streams.last_sequence)(&m.event_source_arn).map_err(|e| match e {
        QueueError::NotFound => {
            LambdaError::invalid(format!("Stream not found: {}", m.event_source_arn))
        }
        QueueError::Other(e) => LambdaError::Service(e),
    })?;
    if m.starting_position.as_deref() != Some("LATEST") {
        return Ok(None);
    }
    Ok(last)
}

/// Applies the optional members of a Create or Update request.
fn apply_input(m: &mut Mapping, input: MappingInput) -> Result<()> {
    let stream_only = [
        ("StartingPosition", input.starting_position.is_some()),
        (
            "StartingPositionTimestamp",
            input.starting_position_timestamp.is_some(),
        ),
        (
            "ParallelizationFactor",
            input.parallelization_factor.is_some(),
        ),
        (
            "BisectBatchOnFunctionError",
            input.bisect_batch_on_function_error.is_some(),
        ),
        (
            "MaximumRetryAttempts",
            input.maximum_retry_attempts.is_some(),
        ),
        (
            "MaximumRecordAgeInSeconds",
            input.maximum_record_age_in_seconds.is_some(),
        ),
        ("DestinationConfig", input.destination_config.is_some()),
        (
            "TumblingWindowInSeconds",
            input.tumbling_window_in_seconds.is_some(),
        ),
    ];
    if let Some((name, _)) = stream_only.iter().find(|(_, given)| *given) {
        return Err(LambdaError::invalid(format!(
            "Unsupported parameter for SQS event source: {name}"
        )));
    }
    if let Some(enabled) = input.enabled {
        m.enabled = enabled;
    }
    if let Some(n) = input.batch_size {
        m.batch_size = LambdaError::bounded(n, "batchSize", 1, 10_000)?;
    }
    if let Some(n) = input.maximum_batching_window_in_seconds {
        m.maximum_batching_window =
            LambdaError::bounded(n, "maximumBatchingWindowInSeconds", 0, 300)?;
    }
    if m.batch_size > 10 && m.maximum_batching_window == 0 {
        return Err(LambdaError::invalid(
            "Maximum batch window in seconds must be greater than 0 if maximum batch size is greater than 10",
        ));
    }
    if let Some(types) = input.function_response_types {
        if let Some(bad) = types.iter().find(|t| *t != "ReportBatchItemFailures") {
            return Err(LambdaError::constraint(
                format!("[{bad}]"),
                "functionResponseTypes",
                "Member must satisfy constraint: [Member must satisfy enum value set: [ReportBatchItemFailures]]",
            ));
        }
        m.report_batch_item_failures = !types.is_empty();
    }
    if let Some(scaling) = input.scaling_config {
        m.maximum_concurrency = scaling
            .maximum_concurrency
            .map(|n| LambdaError::bounded(n, "scalingConfig.maximumConcurrency", 2, 1000))
            .transpose()?;
    }
    if let Some(filter) = input.filter_criteria {
        let patterns = filter_patterns(&filter)?;
        nimbus_patterns::FilterCriteria::parse(&patterns)
            .map_err(|e| LambdaError::invalid(e.to_string()))?;
        m.filter_criteria = (!patterns.is_empty()).then_some(filter);
    }
    Ok(())
}

/// The pattern texts of a `FilterCriteria` member
/// (`{"Filters": [{"Pattern": "..."}]}`).
pub(crate) fn filter_patterns(filter: &Value) -> Result<Vec<String>> {
    let Some(filters) = filter.get("Filters") else {
        return Ok(Vec::new());
    };
    let Some(list) = filters.as_array() else {
        return Err(LambdaError::invalid("Invalid filter pattern definition."));
    };
    list.iter()
        .map(|f| {
            f.get("Pattern")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| LambdaError::invalid("Invalid filter pattern definition."))
        })
        .collect()
}

/// Only SQS queues are sources today.
fn check_source_kind(arn: &str) -> Result<()> {
    let service = arn.strip_prefix("arn:").and_then(|r| r.split(':').nth(1));
    match service {
        Some("sqs") if arn.split(':').count() == 6 => Ok(()),
        Some("dynamodb") if esm::is_stream(arn) => Ok(()),
        Some("dynamodb") | Some("kinesis") | Some("kafka") | Some("mq") => {
            Err(LambdaError::invalid(format!(
                "nimbus does not support this event source yet: {arn} (SQS queues and DynamoDB streams are supported)"
            )))
        }
        _ => Err(LambdaError::invalid(format!(
            "Unrecognized event source: {arn}"
        ))),
    }
}

/// The queue must exist, and its visibility timeout must cover the
/// function's timeout; FIFO queues take batches of at most 10.
async fn check_queue(lambda: &Lambda, m: &Mapping, function_timeout: u32) -> Result<()> {
    let Some(queues) = lambda.inner().queues.get() else {
        return Err(LambdaError::Service(
            "nimbus has no SQS service attached".into(),
        ));
    };
    let info = (queues.info)(m.event_source_arn.clone()).await.map_err(|e| match e {
        QueueError::NotFound => LambdaError::invalid(
            "Error occurred while ReceiveMessage. SQS Error Code: AWS.SimpleQueueService.NonExistentQueue. SQS Error Message: The specified queue does not exist for this wsdl version.",
        ),
        QueueError::Other(e) => LambdaError::Service(e),
    })?;
    if info.visibility_timeout < function_timeout {
        return Err(LambdaError::invalid(format!(
            "Queue visibility timeout: {} seconds is less than Function timeout: {function_timeout} seconds",
            info.visibility_timeout
        )));
    }
    if info.fifo && m.batch_size > 10 {
        return Err(LambdaError::invalid(
            "Batch size must be between 1 and 10 for FIFO queues.",
        ));
    }
    Ok(())
}

fn load(lambda: &Lambda, ctx: &RequestContext, uuid: &str) -> Result<Mapping> {
    let bytes = lambda.inner().store.snapshot()?.get(&mapping_key(uuid))?;
    bytes
        .and_then(|b| serde_json::from_slice::<Mapping>(&b).ok())
        .filter(|m| m.account == ctx.account_id && m.region == ctx.region)
        .ok_or_else(|| LambdaError::not_found("The resource you requested does not exist."))
}

async fn save(lambda: &Lambda, m: &Mapping) -> Result<()> {
    let key = mapping_key(&m.uuid);
    let value = serde_json::to_vec(m).map_err(|e| LambdaError::Service(e.to_string()))?;
    lambda
        .inner()
        .store
        .write(move |txn| {
            txn.put(&key, &value);
            Ok::<_, LambdaError>(())
        })
        .await
}
