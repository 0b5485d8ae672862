//! Request members shared by several operations: expression attribute
//! names and values, ReturnValues, and the legacy parameters nimbus does not
//! take yet.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::codec::Violations;
use crate::error::{DynamoError, Result};
use crate::expr::Substitutions;
use crate::model::value::decode_value;

/// Builds the request's substitutions, with AWS's checks on the maps
/// themselves. `uses_expressions` is whether the request has any expression
/// that could use them.
pub fn substitutions(
    names: Option<HashMap<String, String>>,
    values: Option<Map<String, Value>>,
    uses_expressions: bool,
) -> Result<Substitutions> {
    if let Some(names) = &names {
        if !uses_expressions {
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
            if !uses_expressions {
                return Err(DynamoError::validation(
                    "ExpressionAttributeValues can only be specified when using expressions",
                ));
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

/// Rejects legacy (pre-expression) parameters, which nimbus does not take
/// yet, by name, rather than silently ignoring them.
pub fn reject_legacy(params: &[(&str, bool)]) -> Result<()> {
    match params.iter().find(|(_, present)| *present) {
        Some((name, _)) => Err(DynamoError::validation(format!(
            "nimbus does not support the legacy parameter {name} yet; use expressions"
        ))),
        None => Ok(()),
    }
}
