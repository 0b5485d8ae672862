//! Request members shared by several operations: expression attribute
//! names and values, and ReturnValues. (The legacy members are
//! [`crate::legacy`]'s.)

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::codec::Violations;
use crate::error::{DynamoError, Result};
use crate::expr::Substitutions;
use crate::model::value::decode_value;

/// Builds the request's substitutions, with AWS's checks on the maps
/// themselves. `expressions` lists the operation's expression members in
/// AWS's order, each with whether the request has it: names may serve any
/// of them, values any but a ProjectionExpression (which has none).
pub fn substitutions(
    names: Option<HashMap<String, String>>,
    values: Option<Map<String, Value>>,
    expressions: &[(&str, bool)],
) -> Result<Substitutions> {
    if let Some(names) = &names {
        if !expressions.iter().any(|(_, present)| *present) {
            return Err(DynamoError::validation(
                "ExpressionAttributeNames can only be specified when using expressions",
            ));
        }
        if names.is_empty() {
            return Err(DynamoError::validation(
                "ExpressionAttributeNames must not be empty",
            ));
        }
        if let Some(bad) = names.keys().find(|k| !k.starts_with('#') || k.len() < 2) {
            return Err(DynamoError::validation(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\""
            )));
        }
    }
    let values = match values {
        None => None,
        Some(values) => {
            let takers: Vec<&(&str, bool)> = expressions
                .iter()
                .filter(|(name, _)| *name != "ProjectionExpression")
                .collect();
            if !takers.iter().any(|(_, present)| *present) {
                // AWS names the members that would have used them.
                let names: Vec<&str> = takers.iter().map(|(name, _)| *name).collect();
                let verb = if names.len() > 1 { "are" } else { "is" };
                return Err(DynamoError::validation(format!(
                    "ExpressionAttributeValues can only be specified when using expressions: {} {verb} null",
                    names.join(" and ")
                )));
            }
            if values.is_empty() {
                return Err(DynamoError::validation(
                    "ExpressionAttributeValues must not be empty",
                ));
            }
            let mut decoded = HashMap::with_capacity(values.len());
            for (k, v) in &values {
                if !k.starts_with(':') || k.len() < 2 {
                    return Err(DynamoError::validation(format!(
                        "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                    )));
                }
                let v = decode_value(v).map_err(|e| {
                    DynamoError::validation(format!(
                        "ExpressionAttributeValues contains invalid value: {} for key {k}",
                        e.message
                    ))
                })?;
                decoded.insert(k.clone(), v);
            }
            Some(decoded)
        }
    };
    Ok(Substitutions::new(names, values))
}

/// ReturnValues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnValues {
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

impl ReturnValues {
    /// Parses ReturnValues; `allowed` lists what the operation accepts
    /// (PutItem and DeleteItem take only NONE and ALL_OLD).
    pub fn parse(v: Option<&str>, allowed: &[ReturnValues]) -> Result<ReturnValues> {
        let parsed = match v {
            None | Some("NONE") => ReturnValues::None,
            Some("ALL_OLD") => ReturnValues::AllOld,
            Some("UPDATED_OLD") => ReturnValues::UpdatedOld,
            Some("ALL_NEW") => ReturnValues::AllNew,
            Some("UPDATED_NEW") => ReturnValues::UpdatedNew,
            Some(other) => {
                let mut v = Violations::new();
                v.add(
                    &Violations::quoted(other),
                    "returnValues",
                    "Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]",
                );
                v.into_result()?;
                ReturnValues::None
            }
        };
        if parsed != ReturnValues::None && !allowed.contains(&parsed) {
            return Err(DynamoError::validation(
                "Return values set to invalid value",
            ));
        }
        Ok(parsed)
    }
}

/// ReturnValuesOnConditionCheckFailure: whether to return the old item.
pub fn return_old_on_failure(v: Option<&str>) -> Result<bool> {
    match v {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => {
            let mut v = Violations::new();
            v.add(
                &Violations::quoted(other),
                "returnValuesOnConditionCheckFailure",
                "Member must satisfy enum value set: [ALL_OLD, NONE]",
            );
            v.into_result()?;
            Ok(false)
        }
    }
}
