//! Echoes the event with what the runtime context says about the function.
use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, ctx) = event.into_parts();
    if payload.get("fail").is_some() {
        return Err("failed on purpose".into());
    }
    Ok(json!({
        "echo": payload,
        "requestId": ctx.request_id,
        "functionArn": ctx.invoked_function_arn,
        "functionName": std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_default(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
