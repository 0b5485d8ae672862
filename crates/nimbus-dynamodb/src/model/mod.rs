//! DynamoDB's data model: attribute values, exact decimal numbers, items.

pub mod number;
pub mod value;

pub use number::Number;
pub use value::{AttributeValue, Item};
