//! AddPermission, RemovePermission, GetPolicy: the function's resource-based
//! policy. Statements are stored and returned as AWS writes them; they are
//! enforced once nimbus has strict authentication (`--auth strict`).

use nimbus_wire::RequestContext;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{check_revision, find};
use crate::catalog::Change;
use crate::error::{LambdaError, Result};
use crate::model::{self, FunctionRecord};
use crate::names;
use crate::{Lambda, Reply, Request};

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddPermissionInput {
    statement_id: Option<String>,
    action: Option<String>,
    principal: Option<String>,
    source_arn: Option<String>,
    source_account: Option<String>,
    event_source_token: Option<String>,
    #[serde(rename = "PrincipalOrgID")]
    principal_org_id: Option<String>,
    function_url_auth_type: Option<String>,
    revision_id: Option<String>,
}

pub async fn add_permission(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let input: AddPermissionInput = req.json()?;
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?;
    let sid = input
        .statement_id
        .clone()
        .ok_or_else(|| LambdaError::null("statementId"))?;
    if sid.is_empty()
        || sid.len() > 100
        || !sid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(LambdaError::constraint(
            &sid,
            "statementId",
            "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)",
        ));
    }
    let action = input
        .action
        .clone()
        .ok_or_else(|| LambdaError::null("action"))?;
    if !valid_action(&action) {
        return Err(LambdaError::constraint(
            &action,
            "action",
            "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])",
        ));
    }
    let principal = input
        .principal
        .clone()
        .ok_or_else(|| LambdaError::null("principal"))?;
    let ctx_owned = ctx.clone();
    let statement = lambda
        .inner()
        .catalog
        .change(&ctx.account_id, &ctx.region, &f.name.clone(), move |current| {
            let mut record = current
                .cloned()
                .ok_or_else(|| super::not_found(&ctx_owned, &f.name, None))?;
            let resource = resource_arn(&record, &ctx_owned, qualifier.as_deref())?;
            check_revision(input.revision_id.as_deref(), &record.latest.revision_id)?;
            let statements = record.policies.entry(qualifier.unwrap_or_default()).or_default();
            if statements.iter().any(|s| s["Sid"] == sid.as_str()) {
                return Err(LambdaError::ResourceConflict(
                    "The statement id (sid) provided already exists. Please choose a new statement id, or remove the existing statement.".into(),
                ));
            }
            let statement = statement_json(&input, &sid, &action, &principal, &resource);
            statements.push(statement.clone());
            // Policy changes give the function a new revision, as on AWS.
            record.latest.revision_id = model::new_revision_id();
            Ok(Change::Put(Box::new(record), statement))
        })
        .await?;
    Ok(Reply::json(
        201,
        &json!({ "Statement": statement.to_string() }),
    ))
}

pub fn get_policy(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?;
    resource_arn(&f, ctx, qualifier.as_deref())?;
    let statements = f
        .policies
        .get(&qualifier.unwrap_or_default())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| LambdaError::not_found("The resource you requested does not exist."))?;
    let policy = json!({ "Version": "2012-10-17", "Id": "default", "Statement": statements });
    Ok(Reply::json(
        200,
        &json!({ "Policy": policy.to_string(), "RevisionId": f.latest.revision_id }),
    ))
}

pub async fn remove_permission(
    lambda: &Lambda,
    ctx: &RequestContext,
    req: &Request,
    name: &str,
    sid: &str,
) -> Result<Reply> {
    let (f, r) = find(lambda, ctx, name)?;
    let qualifier = names::merge_qualifier(&r, req.query("Qualifier").as_deref())?;
    let expected = req.query("RevisionId");
    let sid = sid.to_owned();
    let ctx_owned = ctx.clone();
    lambda
        .inner()
        .catalog
        .change(
            &ctx.account_id,
            &ctx.region,
            &f.name.clone(),
            move |current| {
                let mut record = current
                    .cloned()
                    .ok_or_else(|| super::not_found(&ctx_owned, &f.name, None))?;
                resource_arn(&record, &ctx_owned, qualifier.as_deref())?;
                check_revision(expected.as_deref(), &record.latest.revision_id)?;
                let key = qualifier.unwrap_or_default();
                let statements = record.policies.entry(key.clone()).or_default();
                let before = statements.len();
                statements.retain(|s| s["Sid"] != sid.as_str());
                if statements.len() == before {
                    return Err(LambdaError::not_found(format!(
                        "Statement {sid} is not found in resource policy."
                    )));
                }
                if statements.is_empty() {
                    record.policies.remove(&key);
                }
                record.latest.revision_id = model::new_revision_id();
                Ok(Change::Put(Box::new(record), ()))
            },
        )
        .await?;
    Ok(Reply::empty(204))
}

/// The ARN a policy is attached to: the function, or one of its versions
/// or aliases (which must exist).
fn resource_arn(
    f: &FunctionRecord,
    ctx: &RequestContext,
    qualifier: Option<&str>,
) -> Result<String> {
    match qualifier {
        None => Ok(f.arn()),
        Some(q) if f.version(q).is_some() || f.aliases.contains_key(q) => {
            Ok(names::qualified_arn(&f.region, &f.account, &f.name, q))
        }
        Some(q) => Err(super::not_found(ctx, &f.name, Some(q))),
    }
}

fn statement_json(
    input: &AddPermissionInput,
    sid: &str,
    action: &str,
    principal: &str,
    resource: &str,
) -> Value {
    let principal = if principal == "*" {
        json!("*")
    } else if principal.ends_with(".amazonaws.com") {
        json!({ "Service": principal })
    } else if principal.len() == 12 && principal.bytes().all(|b| b.is_ascii_digit()) {
        json!({ "AWS": format!("arn:aws:iam::{principal}:root") })
    } else {
        json!({ "AWS": principal })
    };
    let mut condition = Map::new();
    let mut add = |op: &str, key: &str, value: &str| {
        condition
            .entry(op.to_owned())
            .or_insert_with(|| json!({}))
            .as_object_mut()
            .map(|m| m.insert(key.to_owned(), json!(value)));
    };
    if let Some(arn) = &input.source_arn {
        add("ArnLike", "AWS:SourceArn", arn);
    }
    if let Some(account) = &input.source_account {
        add("StringEquals", "AWS:SourceAccount", account);
    }
    if let Some(token) = &input.event_source_token {
        add("StringEquals", "lambda:EventSourceToken", token);
    }
    if let Some(org) = &input.principal_org_id {
        add("StringEquals", "aws:PrincipalOrgID", org);
    }
    if let Some(auth) = &input.function_url_auth_type {
        add("StringEquals", "lambda:FunctionUrlAuthType", auth);
    }
    let mut statement = json!({
        "Sid": sid,
        "Effect": "Allow",
        "Principal": principal,
        "Action": action,
        "Resource": resource,
    });
    if !condition.is_empty() {
        statement["Condition"] = Value::Object(condition);
    }
    statement
}

fn valid_action(action: &str) -> bool {
    action == "*"
        || action == "lambda:*"
        || action
            .strip_prefix("lambda:")
            .is_some_and(|op| !op.is_empty() && op.bytes().all(|b| b.is_ascii_alphabetic()))
}
