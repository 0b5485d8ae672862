//! Consumed capacity, rounded as AWS rounds it: one write unit per 1 KB
//! written, one read unit per 4 KB read strongly (half for eventually
//! consistent reads), never less than one unit per item operation.

use serde_json::{json, Value};

use crate::codec::Violations;
use crate::error::Result;

/// What ReturnConsumedCapacity asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnCapacity {
    None,
    Total,
    Indexes,
}

impl ReturnCapacity {
    pub fn parse(v: Option<&str>) -> Result<ReturnCapacity> {
        match v {
            None | Some("NONE") => Ok(ReturnCapacity::None),
            Some("TOTAL") => Ok(ReturnCapacity::Total),
            Some("INDEXES") => Ok(ReturnCapacity::Indexes),
            Some(other) => {
                let mut v = Violations::new();
                v.add(
                    &Violations::quoted(other),
                    "returnConsumedCapacity",
                    "Member must satisfy enum value set: [INDEXES, TOTAL, NONE]",
                );
                v.into_result()?;
                Ok(ReturnCapacity::None)
            }
        }
    }
}

/// Write units for writing an item of `bytes` (the larger of old and new).
pub fn write_units(bytes: usize) -> f64 {
    bytes.div_ceil(1024).max(1) as f64
}

/// Read units for reading `bytes` in one operation.
pub fn read_units(bytes: usize, consistent: bool) -> f64 {
    let units = bytes.div_ceil(4096).max(1) as f64;
    if consistent {
        units
    } else {
        units / 2.0
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Read,
    Write,
}

/// The ConsumedCapacity structure, or `None` when not asked for.
pub fn consumed(mode: ReturnCapacity, table: &str, units: f64, kind: Kind) -> Option<Value> {
    let member = match kind {
        Kind::Read => "ReadCapacityUnits",
        Kind::Write => "WriteCapacityUnits",
    };
    match mode {
        ReturnCapacity::None => None,
        ReturnCapacity::Total => Some(json!({
            "TableName": table,
            "CapacityUnits": units,
            member: units,
        })),
        ReturnCapacity::Indexes => Some(json!({
            "TableName": table,
            "CapacityUnits": units,
            member: units,
            "Table": { "CapacityUnits": units, member: units },
        })),
    }
}

/// Write units one item write spent on one secondary index.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexUnits {
    pub index: String,
    pub local: bool,
    pub units: f64,
}

/// ConsumedCapacity of a write that also wrote secondary indexes: the
/// total counts the table and every index; INDEXES breaks it down.
pub fn consumed_write(
    mode: ReturnCapacity,
    table: &str,
    table_units: f64,
    indexes: &[IndexUnits],
) -> Option<Value> {
    let total = table_units + indexes.iter().map(|i| i.units).sum::<f64>();
    let mut out = consumed(mode, table, total, Kind::Write)?;
    if mode == ReturnCapacity::Indexes {
        let unit = |u: f64| json!({ "CapacityUnits": u, "WriteCapacityUnits": u });
        out["Table"] = unit(table_units);
        for (member, local) in [
            ("GlobalSecondaryIndexes", false),
            ("LocalSecondaryIndexes", true),
        ] {
            let mut map = serde_json::Map::new();
            for i in indexes.iter().filter(|i| i.local == local) {
                let u = map
                    .get(&i.index)
                    .and_then(|v| v["CapacityUnits"].as_f64())
                    .unwrap_or(0.0)
                    + i.units;
                map.insert(i.index.clone(), unit(u));
            }
            if !map.is_empty() {
                out[member] = Value::Object(map);
            }
        }
    }
    Some(out)
}
