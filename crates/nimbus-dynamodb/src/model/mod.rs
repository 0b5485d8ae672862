//! DynamoDB's data model: attribute values, exact decimal numbers, items.
//!
//! - `number`: exact decimals with DynamoDB's limits, arithmetic, key bytes;
//! - `value`: the ten attribute value types and their equality;
//! - `json`: DynamoDB JSON output, and input for trusted (stored) data;
//! - `decode`: untrusted request JSON, with DynamoDB's error messages;
//! - `size`: item size by AWS's metering rules;
//! - `keycodec`: key attributes as order-preserving storage bytes.

pub mod decode;
mod json;
pub mod keycodec;
pub mod number;
pub mod size;
pub mod value;

pub use decode::{decode_item, decode_value, ValueError, ValueErrorKind, MAX_NESTING_LEVELS};
pub use keycodec::encode_key_component;
pub use number::{Number, NumberError};
pub use size::{item_size, value_size, MAX_ITEM_SIZE};
pub use value::{AttributeValue, Item};
