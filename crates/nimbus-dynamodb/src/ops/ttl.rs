//! UpdateTimeToLive and DescribeTimeToLive.
//!
//! Decisions, where AWS's behaviour depends on time passing:
//! - Status: AWS reports ENABLING / DISABLING for up to an hour; nimbus
//!   applies a change in the request's own write and reports ENABLED or
//!   DISABLED at once.
//! - AWS refuses a second UpdateTimeToLive on a table within an hour of the
//!   last successful one ("Time to live has been modified multiple times
//!   within a fixed interval"); nimbus enforces that too, by the server's
//!   clock, so code that handles it can be tested, and a test that must
//!   change TTL twice advances the clock an hour (`/_nimbus/clock/advance`).

use serde::Deserialize;
use serde_json::{json, Value};

use crate::codec::{decode, Violations};
use crate::error::{DynamoError, Result};
use crate::ttl::{self, TtlState};
use crate::{Caller, DynamoDb};
use nimbus_store::WriteTxn;

/// AWS's minimum time between two changes of one table's TTL setting.
const CHANGE_INTERVAL_MS: u64 = 3600 * 1000;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateTimeToLiveInput {
    table_name: Option<String>,
    time_to_live_specification: Option<SpecificationInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SpecificationInput {
    attribute_name: Option<String>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeTimeToLiveInput {
    table_name: Option<String>,
}

pub async fn update_time_to_live(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: UpdateTimeToLiveInput = decode(body)?;
    let mut v = Violations::new();
    v.check_name(input.table_name.as_deref(), "tableName", 3, 255);
    let spec = match &input.time_to_live_specification {
        None => {
            v.add("null", "timeToLiveSpecification", "Member must not be null");
            None
        }
        Some(spec) => {
            check_attribute_name(&mut v, spec.attribute_name.as_deref());
            if spec.enabled.is_none() {
                v.add(
                    "null",
                    "timeToLiveSpecification.enabled",
                    "Member must not be null",
                );
            }
            Some(spec)
        }
    };
    v.into_result()?;
    // Both present once the violations are clear.
    let (attribute, enabled) = match spec {
        Some(SpecificationInput {
            attribute_name: Some(a),
            enabled: Some(e),
        }) => (a.clone(), *e),
        _ => return Err(DynamoError::Internal("unchecked TTL specification".into())),
    };
    let name = input.table_name.unwrap_or_default();
    let table = db
        .catalog
        .get(&caller.account_id, &caller.region, &name)
        .ok_or_else(|| DynamoError::table_not_found(&name))?;

    let now = db.clock.now_ms();
    let t = table.clone();
    let attr = attribute.clone();
    let indexed = db
        .store
        .write(move |txn: &mut WriteTxn<'_>| -> Result<u64> {
            if t.is_dropped() {
                return Err(DynamoError::table_not_found(&t.def.name));
            }
            let number = t.def.number;
            let state = ttl::read_state(txn, number)?;
            check_change(state.as_ref(), &attr, enabled, now)?;
            let indexed = if enabled {
                ttl::build_expiry_index(txn, number, &attr)?
            } else {
                ttl::drop_expiry_index(txn, number)?;
                0
            };
            ttl::write_state(
                txn,
                number,
                &TtlState {
                    attribute_name: attr.clone(),
                    enabled,
                    updated_ms: now,
                },
            );
            // From here on, every item write indexes by the new setting.
            t.set_live_ttl(enabled.then_some(attr.as_str()));
            Ok(indexed)
        })
        .await?;
    tracing::info!(
        table = %name,
        attribute = %attribute,
        enabled,
        indexed,
        "updated time to live"
    );
    Ok(json!({
        "TimeToLiveSpecification": {"AttributeName": attribute, "Enabled": enabled}
    }))
}

pub async fn describe_time_to_live(db: &DynamoDb, caller: &Caller, body: &[u8]) -> Result<Value> {
    let input: DescribeTimeToLiveInput = decode(body)?;
    let name = crate::codec::check_table_name(input.table_name.as_deref())?;
    let table = db
        .catalog
        .get(&caller.account_id, &caller.region, name)
        .ok_or_else(|| DynamoError::table_not_found(name))?;
    let state = ttl::read_state(&db.store.snapshot()?, table.def.number)?;
    let description = match state {
        Some(s) if s.enabled => json!({
            "TimeToLiveStatus": "ENABLED",
            "AttributeName": s.attribute_name,
        }),
        _ => json!({ "TimeToLiveStatus": "DISABLED" }),
    };
    Ok(json!({ "TimeToLiveDescription": description }))
}

/// AttributeName: 1 to 255 characters, any characters.
fn check_attribute_name(v: &mut Violations, name: Option<&str>) {
    const MEMBER: &str = "timeToLiveSpecification.attributeName";
    match name {
        None => v.add("null", MEMBER, "Member must not be null"),
        Some(n) => {
            let len = n.chars().count();
            if len < 1 {
                v.add(
                    &Violations::quoted(n),
                    MEMBER,
                    "Member must have length greater than or equal to 1",
                );
            } else if len > 255 {
                v.add(
                    &Violations::quoted(n),
                    MEMBER,
                    "Member must have length less than or equal to 255",
                );
            }
        }
    }
}

/// AWS's rules for a change of a table's TTL setting, given what is stored.
fn check_change(state: Option<&TtlState>, attribute: &str, enabled: bool, now: u64) -> Result<()> {
    if let Some(s) = state {
        if now < s.updated_ms.saturating_add(CHANGE_INTERVAL_MS) {
            return Err(DynamoError::validation(
                "Time to live has been modified multiple times within a fixed interval",
            ));
        }
    }
    match state.filter(|s| s.enabled) {
        Some(active) if active.attribute_name != attribute => {
            Err(DynamoError::validation(format!(
                "TimeToLive is active on a different AttributeName: current AttributeName is {}",
                active.attribute_name
            )))
        }
        Some(_) if enabled => Err(DynamoError::validation("TimeToLive is already enabled")),
        None if !enabled => Err(DynamoError::validation("TimeToLive is already disabled")),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(attribute: &str, enabled: bool, at: u64) -> TtlState {
        TtlState {
            attribute_name: attribute.into(),
            enabled,
            updated_ms: at,
        }
    }

    fn message(r: Result<()>) -> String {
        match r {
            Err(DynamoError::Validation(m)) => m,
            other => panic!("expected a ValidationException, got {other:?}"),
        }
    }

    #[test]
    fn change_rules() {
        let hour = CHANGE_INTERVAL_MS;
        assert!(check_change(None, "exp", true, 0).is_ok());
        assert_eq!(
            message(check_change(None, "exp", false, 0)),
            "TimeToLive is already disabled"
        );
        let on = state("exp", true, 0);
        assert_eq!(
            message(check_change(Some(&on), "exp", false, hour - 1)),
            "Time to live has been modified multiple times within a fixed interval"
        );
        assert!(check_change(Some(&on), "exp", false, hour).is_ok());
        assert_eq!(
            message(check_change(Some(&on), "exp", true, hour)),
            "TimeToLive is already enabled"
        );
        assert_eq!(
            message(check_change(Some(&on), "other", true, hour)),
            "TimeToLive is active on a different AttributeName: current AttributeName is exp"
        );
        assert_eq!(
            message(check_change(Some(&on), "other", false, hour)),
            "TimeToLive is active on a different AttributeName: current AttributeName is exp"
        );
        let off = state("exp", false, 0);
        assert!(check_change(Some(&off), "other", true, hour).is_ok());
        assert_eq!(
            message(check_change(Some(&off), "exp", false, hour)),
            "TimeToLive is already disabled"
        );
    }
}
