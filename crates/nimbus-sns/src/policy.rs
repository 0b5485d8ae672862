//! The topic access policy: AWS's default document, and AddPermission /
//! RemovePermission, which add and remove statements in it by label. nimbus
//! keeps the policy for the tools that read it; it does not enforce it (any
//! caller may publish, as with the other services under `--auth relaxed`).

use nimbus_wire::RequestContext;
use serde_json::{json, Value};

use crate::arn::TopicRef;
use crate::error::{Result, SnsError};
use crate::query::Object;
use crate::request;
use crate::topics::{resolve_topic_arn, update_topic};
use crate::Sns;

/// The actions a topic policy statement may name (SNS API reference,
/// AddPermission).
const ACTIONS: &[&str] = &[
    "AddPermission",
    "DeleteTopic",
    "GetTopicAttributes",
    "ListSubscriptionsByTopic",
    "Publish",
    "RemovePermission",
    "SetTopicAttributes",
    "Subscribe",
];

/// The policy every new topic has: its owner may do everything the topic
/// supports (members in AWS's order).
pub fn default_policy(topic_arn: &str, account: &str) -> String {
    let arn = quote(topic_arn);
    let account = quote(account);
    format!(
        "{{\"Version\":\"2008-10-17\",\"Id\":\"__default_policy_ID\",\"Statement\":[{{\"Sid\":\"__default_statement_ID\",\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":\"*\"}},\"Action\":[\"SNS:GetTopicAttributes\",\"SNS:SetTopicAttributes\",\"SNS:AddPermission\",\"SNS:RemovePermission\",\"SNS:DeleteTopic\",\"SNS:Subscribe\",\"SNS:ListSubscriptionsByTopic\",\"SNS:Publish\"],\"Resource\":{arn},\"Condition\":{{\"StringEquals\":{{\"AWS:SourceOwner\":{account}}}}}}}]}}"
    )
}

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn one_or_many(items: Vec<Value>) -> Value {
    if items.len() == 1 {
        items.into_iter().next().unwrap_or(Value::Null)
    } else {
        Value::Array(items)
    }
}

pub async fn add_permission(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resolve_topic_arn(ctx, request::req_str(req, "TopicArn")?)?;
    let label = request::req_str(req, "Label")?.to_owned();
    if req.get("AWSAccountId").is_none() {
        return Err(SnsError::missing("AWSAccountId"));
    }
    if req.get("ActionName").is_none() {
        return Err(SnsError::missing("ActionName"));
    }
    let accounts = request::str_list(req, "AWSAccountId")?;
    let actions = request::str_list(req, "ActionName")?;
    if accounts.is_empty() || actions.is_empty() {
        return Err(SnsError::invalid_parameter(
            "Invalid parameter: Policy statement must have a principal and an action",
        ));
    }
    if let Some(bad) = actions.iter().find(|a| !ACTIONS.contains(&a.as_str())) {
        return Err(SnsError::invalid_parameter(format!(
            "Invalid parameter: Policy statement action out of service scope! ({bad})"
        )));
    }
    let principals = accounts
        .iter()
        .map(|a| Value::String(format!("arn:aws:iam::{a}:root")))
        .collect();
    let action_values = actions
        .iter()
        .map(|a| Value::String(format!("SNS:{a}")))
        .collect();
    edit_policy(sns, &t, move |arn, statements| {
        if statements
            .iter()
            .any(|s| s.get("Sid").and_then(Value::as_str) == Some(label.as_str()))
        {
            return Err(SnsError::invalid_parameter(
                "Invalid parameter: Statement already exists",
            ));
        }
        statements.push(json!({
            "Sid": label,
            "Effect": "Allow",
            "Principal": {"AWS": one_or_many(principals)},
            "Action": one_or_many(action_values),
            "Resource": arn,
        }));
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

pub async fn remove_permission(sns: &Sns, ctx: &RequestContext, req: &Object) -> Result<Value> {
    let t = resolve_topic_arn(ctx, request::req_str(req, "TopicArn")?)?;
    let label = request::req_str(req, "Label")?.to_owned();
    edit_policy(sns, &t, move |_, statements| {
        statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label.as_str()));
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

/// Rewrites the statements of a topic's policy (the default one until a
/// policy is set) in one store write; `edit` gets the topic ARN too.
async fn edit_policy(
    sns: &Sns,
    t: &TopicRef,
    edit: impl FnOnce(&str, &mut Vec<Value>) -> Result<()> + Send + 'static,
) -> Result<()> {
    update_topic(sns, t, move |topic| {
        let arn = topic.arn();
        let mut doc = current_policy(topic);
        edit_statements(&mut doc, |statements| edit(&arn, statements))?;
        topic.attributes.insert("Policy".into(), doc.to_string());
        Ok(())
    })
    .await?;
    Ok(())
}

fn current_policy(topic: &crate::model::TopicRecord) -> Value {
    topic
        .attributes
        .get("Policy")
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| {
            serde_json::from_str(&default_policy(&topic.arn(), &topic.account)).unwrap_or_default()
        })
}

/// Rewrites the policy's statement list (a single statement or none count
/// as a list of one or none).
fn edit_statements(
    doc: &mut Value,
    edit: impl FnOnce(&mut Vec<Value>) -> Result<()>,
) -> Result<()> {
    let Some(object) = doc.as_object_mut() else {
        return Err(SnsError::internal("the topic policy is not a JSON object"));
    };
    let mut statements = match object.remove("Statement") {
        Some(Value::Array(items)) => items,
        None | Some(Value::Null) => Vec::new(),
        Some(single) => vec![single],
    };
    let outcome = edit(&mut statements);
    object.insert("Statement".into(), Value::Array(statements));
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_is_awss_document() {
        let v: Value =
            serde_json::from_str(&default_policy("arn:aws:sns:us-east-1:1:t", "1")).unwrap();
        assert_eq!(v["Id"], "__default_policy_ID");
        let s = &v["Statement"][0];
        assert_eq!(s["Resource"], "arn:aws:sns:us-east-1:1:t");
        assert_eq!(s["Condition"]["StringEquals"]["AWS:SourceOwner"], "1");
        assert_eq!(s["Action"].as_array().unwrap().len(), 8);
    }

    #[test]
    fn statements_become_a_list() {
        let mut doc = json!({"Statement": {"Sid": "a"}});
        edit_statements(&mut doc, |s| {
            s.push(json!({"Sid": "b"}));
            Ok(())
        })
        .unwrap();
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 2);
        let mut empty = json!({});
        edit_statements(&mut empty, |s| {
            assert!(s.is_empty());
            Ok(())
        })
        .unwrap();
        assert!(edit_statements(&mut json!([]), |_| Ok(())).is_err());
    }
}
