//! Queue access policies: the `Policy` attribute and the statements
//! AddPermission and RemovePermission write into it.
//!
//! A policy set with SetQueueAttributes is kept as the text the caller sent
//! (GetQueueAttributes returns it unchanged). AddPermission and
//! RemovePermission rewrite it: the document is split into its parts with
//! each statement kept as its own JSON text, so statements they do not
//! touch come back byte for byte.
//!
//! nimbus stores and validates policies; it does not evaluate them (no
//! request is refused because a policy denies it).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Map, Value};

use crate::error::{Result, SqsError};

/// AWS's policy quotas (SQS developer guide, "Amazon SQS policy quotas").
pub const MAX_POLICY_BYTES: usize = 8192;
pub const MAX_STATEMENTS: usize = 20;
/// Actions one AddPermission may grant (AWS refuses more with OverLimit).
pub const MAX_ACTIONS: usize = 7;

const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];
const DOCUMENT_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// The policy version AddPermission writes into a queue without a policy.
const GENERATED_VERSION: &str = "2012-10-17";

fn invalid() -> SqsError {
    SqsError::invalid_attribute_value("Policy")
}

/// Validates a `Policy` attribute value and returns what the queue keeps:
/// `None` for `""` (which removes the policy), else the text as sent.
pub fn parse_attribute(text: &str) -> Result<Option<String>> {
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_POLICY_BYTES {
        return Err(invalid());
    }
    let document = Document::parse(text).ok_or_else(invalid)?;
    let n = document.statements.len();
    if n > MAX_STATEMENTS {
        return Err(SqsError::over_limit(format!(
            "{n} statements were found in the submitted policy, max allowed is {MAX_STATEMENTS}"
        )));
    }
    Ok(Some(text.to_owned()))
}

/// A policy document: its version and id, and its statements in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    version: Option<String>,
    id: Option<String>,
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    sid: Option<String>,
    /// The statement's JSON text, as it was sent or generated.
    text: String,
}

#[derive(Deserialize)]
struct Parts<'a> {
    #[serde(rename = "Statement", borrow)]
    statement: &'a RawValue,
}

impl Document {
    /// The document AddPermission starts from on a queue without a policy.
    pub fn new_for_queue(queue_arn: &str) -> Document {
        Document {
            version: Some(GENERATED_VERSION.to_owned()),
            id: Some(format!("{queue_arn}/SQSDefaultPolicy")),
            statements: Vec::new(),
        }
    }

    /// Parses and checks a policy document: an object of `Version` (one of
    /// the two policy language versions), `Id` and `Statement` (one
    /// statement or a non-empty list). `None` if it is not one.
    pub fn parse(text: &str) -> Option<Document> {
        let top: Map<String, Value> = serde_json::from_str(text).ok()?;
        if top.keys().any(|k| !DOCUMENT_KEYS.contains(&k.as_str())) {
            return None;
        }
        let version = match top.get("Version") {
            None => None,
            Some(Value::String(v)) if VERSIONS.contains(&v.as_str()) => Some(v.clone()),
            Some(_) => return None,
        };
        let id = match top.get("Id") {
            None => None,
            Some(Value::String(id)) => Some(id.clone()),
            Some(_) => return None,
        };
        let parts: Parts<'_> = serde_json::from_str(text).ok()?;
        let raw = parts.statement.get();
        let texts: Vec<&str> = if raw.trim_start().starts_with('[') {
            let list: Vec<&RawValue> = serde_json::from_str(raw).ok()?;
            list.into_iter().map(RawValue::get).collect()
        } else {
            vec![raw]
        };
        if texts.is_empty() {
            return None;
        }
        let statements = texts
            .into_iter()
            .map(Statement::parse)
            .collect::<Option<Vec<_>>>()?;
        Some(Document {
            version,
            id,
            statements,
        })
    }

    pub fn len(&self) -> usize {
        self.statements.len()
    }

    pub fn is_empty(&self) -> bool {
        self.statements.is_empty()
    }

    /// Adds `statement` (from [`permission_statement`]) under `label`.
    /// Adding the very statement a label already has changes nothing; a
    /// different one under an existing label is refused.
    pub fn add(&mut self, label: &str, statement: String) -> Result<()> {
        if let Some(existing) = self
            .statements
            .iter()
            .find(|s| s.sid.as_deref() == Some(label))
        {
            let same = serde_json::from_str::<Value>(&existing.text).ok()
                == serde_json::from_str::<Value>(&statement).ok();
            if same {
                return Ok(());
            }
            return Err(SqsError::invalid_parameter_value(format!(
                "Value {label} for parameter Label is invalid. Reason: Already exists."
            )));
        }
        self.statements.push(Statement {
            sid: Some(label.to_owned()),
            text: statement,
        });
        Ok(())
    }

    /// Removes the statements whose Sid is `label`; false if there were none.
    pub fn remove(&mut self, label: &str) -> bool {
        let before = self.statements.len();
        self.statements.retain(|s| s.sid.as_deref() != Some(label));
        self.statements.len() != before
    }

    /// The document as compact JSON: Version, Id, then the statements as a
    /// list.
    pub fn render(&self) -> String {
        let mut members = Vec::with_capacity(3);
        if let Some(v) = &self.version {
            members.push(format!("\"Version\":{}", json!(v)));
        }
        if let Some(id) = &self.id {
            members.push(format!("\"Id\":{}", json!(id)));
        }
        let statements: Vec<&str> = self.statements.iter().map(|s| s.text.as_str()).collect();
        members.push(format!("\"Statement\":[{}]", statements.join(",")));
        format!("{{{}}}", members.join(","))
    }
}

impl Statement {
    /// A statement of a queue policy: only the policy language's elements,
    /// an `Effect` of Allow or Deny, who it applies to (`Principal` or
    /// `NotPrincipal`: a queue policy is a resource policy) and what
    /// (`Action` or `NotAction`: a string or a non-empty list of strings).
    fn parse(text: &str) -> Option<Statement> {
        let Value::Object(members) = serde_json::from_str::<Value>(text).ok()? else {
            return None;
        };
        if members
            .keys()
            .any(|k| !STATEMENT_KEYS.contains(&k.as_str()))
        {
            return None;
        }
        if !matches!(members.get("Effect"), Some(Value::String(e)) if e == "Allow" || e == "Deny") {
            return None;
        }
        let actions = ["Action", "NotAction"].map(|k| members.get(k));
        if actions.iter().flatten().count() != 1 || !actions.iter().flatten().all(|a| is_names(a)) {
            return None;
        }
        let principals = ["Principal", "NotPrincipal"].map(|k| members.get(k));
        if principals.iter().flatten().count() != 1
            || !principals
                .iter()
                .flatten()
                .all(|p| p.is_object() || p == &&json!("*"))
        {
            return None;
        }
        let sid = match members.get("Sid") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return None,
        };
        Some(Statement {
            sid,
            text: text.trim().to_owned(),
        })
    }
}

/// A string or a non-empty list of strings.
fn is_names(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Array(items) => !items.is_empty() && items.iter().all(Value::is_string),
        _ => false,
    }
}

/// The statement AddPermission writes: the label as Sid, the accounts'
/// root principals and the `SQS:`-prefixed actions (a single one as a
/// string, several as a list, as AWS writes them), on the queue.
pub fn permission_statement(
    label: &str,
    account_ids: &[String],
    actions: &[String],
    queue_arn: &str,
) -> String {
    fn one_or_list(items: Vec<String>) -> Value {
        match <[String; 1]>::try_from(items) {
            Ok([one]) => Value::String(one),
            Err(items) => json!(items),
        }
    }
    let principals = one_or_list(
        account_ids
            .iter()
            .map(|a| format!("arn:aws:iam::{a}:root"))
            .collect(),
    );
    let actions = one_or_list(actions.iter().map(|a| format!("SQS:{a}")).collect());
    // Built by hand: serde_json's maps sort their keys, and AWS writes a
    // statement's elements in this order.
    format!(
        "{{\"Sid\":{},\"Effect\":\"Allow\",\"Principal\":{{\"AWS\":{}}},\"Action\":{},\"Resource\":{}}}",
        json!(label),
        principals,
        actions,
        json!(queue_arn)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str = "arn:aws:sqs:us-east-1:000000000000:q";

    #[test]
    fn generated_statements_and_documents() {
        let one =
            permission_statement("l1", &["111111111111".into()], &["SendMessage".into()], ARN);
        assert_eq!(
            one,
            r#"{"Sid":"l1","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"SQS:SendMessage","Resource":"arn:aws:sqs:us-east-1:000000000000:q"}"#
        );
        let two = permission_statement(
            "l2",
            &["111111111111".into(), "222222222222".into()],
            &["SendMessage".into(), "ReceiveMessage".into()],
            ARN,
        );
        let v: Value = serde_json::from_str(&two).unwrap();
        assert_eq!(
            v["Principal"]["AWS"],
            json!([
                "arn:aws:iam::111111111111:root",
                "arn:aws:iam::222222222222:root"
            ])
        );
        assert_eq!(
            v["Action"],
            json!(["SQS:SendMessage", "SQS:ReceiveMessage"])
        );

        let mut doc = Document::new_for_queue(ARN);
        doc.add("l1", one.clone()).unwrap();
        doc.add("l2", two).unwrap();
        // The same statement again is no change; a different one is refused.
        doc.add("l1", one).unwrap();
        let err = doc
            .add(
                "l1",
                permission_statement("l1", &["1".into()], &["*".into()], ARN),
            )
            .unwrap_err();
        assert_eq!(
            err.message,
            "Value l1 for parameter Label is invalid. Reason: Already exists."
        );
        let text = doc.render();
        assert!(text.starts_with(
            r#"{"Version":"2012-10-17","Id":"arn:aws:sqs:us-east-1:000000000000:q/SQSDefaultPolicy","Statement":[{"Sid":"l1""#
        ));
        let again = Document::parse(&text).unwrap();
        assert_eq!(again, doc);
        assert!(doc.remove("l1"));
        assert!(!doc.remove("l1"));
        assert_eq!(doc.len(), 1);
    }

    #[test]
    fn user_statements_keep_their_text() {
        let text = r#"{ "Statement": { "Sid" : "mine", "Effect": "Deny", "Principal": "*", "NotAction": ["sqs:DeleteQueue"] } }"#;
        let mut doc = Document::parse(text).unwrap();
        doc.add(
            "l",
            permission_statement("l", &["1".into()], &["*".into()], ARN),
        )
        .unwrap();
        assert_eq!(
            doc.render(),
            r#"{"Statement":[{ "Sid" : "mine", "Effect": "Deny", "Principal": "*", "NotAction": ["sqs:DeleteQueue"] },{"Sid":"l","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"SQS:*","Resource":"arn:aws:sqs:us-east-1:000000000000:q"}]}"#
        );
    }

    #[test]
    fn attribute_validation() {
        let ok = r#"{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage","Resource":"arn","Condition":{"ArnEquals":{"aws:SourceArn":"t"}}}]}"#;
        assert_eq!(parse_attribute(ok).unwrap().as_deref(), Some(ok));
        assert_eq!(parse_attribute("").unwrap(), None);
        let bad = [
            "not json",
            "[]",
            r#"{"Statement":[]}"#,
            r#"{"Version":"2019-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}"#,
            r#"{"Extra":1,"Statement":{"Effect":"Allow","Principal":"*","Action":"*"}}"#,
            r#"{"Statement":{"Effect":"Maybe","Principal":"*","Action":"*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Action":"*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*"}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":[]}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Bogus":1}}"#,
            r#"{"Statement":{"Sid":5,"Effect":"Allow","Principal":"*","Action":"*"}}"#,
        ];
        for text in bad {
            let err = parse_attribute(text).unwrap_err();
            assert_eq!(err.shape, "InvalidAttributeValue", "{text}");
            assert_eq!(err.message, "Invalid value for the parameter Policy.");
        }
        let big = format!(
            r#"{{"Id":"{}","Statement":{{"Effect":"Allow","Principal":"*","Action":"*"}}}}"#,
            "x".repeat(MAX_POLICY_BYTES)
        );
        assert_eq!(
            parse_attribute(&big).unwrap_err().shape,
            "InvalidAttributeValue"
        );
        let statement = r#"{"Effect":"Allow","Principal":"*","Action":"*"}"#;
        let many = format!(r#"{{"Statement":[{}]}}"#, vec![statement; 21].join(","));
        let err = parse_attribute(&many).unwrap_err();
        assert_eq!((err.shape, err.status), ("OverLimit", 403));
        assert_eq!(
            err.message,
            "21 statements were found in the submitted policy, max allowed is 20"
        );
    }
}
