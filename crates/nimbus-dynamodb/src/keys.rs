//! Primary keys: taking them out of requests and items, checking them
//! against the table's key schema with AWS's messages, and encoding them.

use serde_json::{Map, Value};

use crate::catalog::{KeyAttr, TableDef};
use crate::error::{DynamoError, Result};
use crate::layout;
use crate::model::value::decode_value;
use crate::model::{AttributeValue, Item};

/// Largest partition key value, in bytes.
pub const MAX_HASH_KEY_BYTES: usize = 2048;
/// Largest sort key value, in bytes.
pub const MAX_RANGE_KEY_BYTES: usize = 1024;

/// An item's primary key, decoded and encoded for storage.
#[derive(Debug, Clone)]
pub struct ItemKey {
    /// The key attributes as given (for LastEvaluatedKey and responses).
    pub attrs: Item,
    pub pk: Vec<u8>,
    pub sk: Option<Vec<u8>>,
}

impl ItemKey {
    pub fn storage_key(&self, table_number: u64) -> Vec<u8> {
        layout::item_key(table_number, &self.pk, self.sk.as_deref())
    }
}

pub(crate) fn key_value_bytes(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::N(n) => n.approx_size(),
        _ => 0,
    }
}

/// Checks one key attribute value as PutItem does: its type, emptiness and
/// size. `Ok(None)` means the type does not match.
fn check_key_value(attr: &KeyAttr, v: &AttributeValue, is_hash: bool) -> Result<Option<Vec<u8>>> {
    if v.type_name() != attr.key_type.as_str() {
        return Ok(None);
    }
    match v {
        AttributeValue::S(s) if s.is_empty() => {
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {}",
                attr.name
            )))
        }
        AttributeValue::B(b) if b.is_empty() => {
            return Err(DynamoError::validation(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty binary value. Key: {}",
                attr.name
            )))
        }
        _ => {}
    }
    let size = key_value_bytes(v);
    if is_hash && size > MAX_HASH_KEY_BYTES {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of{MAX_HASH_KEY_BYTES} bytes"
        )));
    }
    if !is_hash && size > MAX_RANGE_KEY_BYTES {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {MAX_RANGE_KEY_BYTES} bytes"
        )));
    }
    Ok(layout::encode_component(v))
}

/// The key of an item about to be written (PutItem): every key attribute
/// must be present with the declared type.
pub fn key_of_item(def: &TableDef, item: &Item) -> Result<ItemKey> {
    let mut attrs = Item::new();
    let mut encoded: [Option<Vec<u8>>; 2] = [None, None];
    for (i, attr) in def.key_attrs().enumerate() {
        let Some(v) = item.get(&attr.name) else {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Missing the key {} in the item",
                attr.name
            )));
        };
        let Some(bytes) = check_key_value(attr, v, i == 0)? else {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {}",
                attr.name,
                attr.key_type.as_str(),
                v.type_name()
            )));
        };
        encoded[i] = Some(bytes);
        attrs.insert(attr.name.clone(), v.clone());
    }
    let [pk, sk] = encoded;
    Ok(ItemKey {
        attrs,
        pk: pk.unwrap_or_default(),
        sk,
    })
}

/// A `Key` request member (GetItem, UpdateItem, DeleteItem): exactly the key
/// attributes, with the right types.
pub fn key_from_request(def: &TableDef, key: &Map<String, Value>) -> Result<ItemKey> {
    let mismatch = || DynamoError::validation("The provided key element does not match the schema");
    let expected = 1 + def.range_key.is_some() as usize;
    let mut attrs = Item::new();
    for (name, raw) in key {
        attrs.insert(name.clone(), decode_value(raw)?);
    }
    if attrs.len() != expected {
        return Err(mismatch());
    }
    let mut encoded: [Option<Vec<u8>>; 2] = [None, None];
    for (i, attr) in def.key_attrs().enumerate() {
        let v = attrs.get(&attr.name).ok_or_else(mismatch)?;
        encoded[i] = Some(check_key_value(attr, v, i == 0)?.ok_or_else(mismatch)?);
    }
    let [pk, sk] = encoded;
    Ok(ItemKey {
        attrs,
        pk: pk.unwrap_or_default(),
        sk,
    })
}

/// The key attributes of a stored item, for LastEvaluatedKey.
pub fn key_attrs_of(def: &TableDef, item: &Item) -> Item {
    def.key_attrs()
        .filter_map(|k| item.get(&k.name).map(|v| (k.name.clone(), v.clone())))
        .collect()
}
