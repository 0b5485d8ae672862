//! DynamoDB JSON for attribute values: `{"S":"x"}`, `{"N":"1.5"}`, binaries
//! as base64, and so on.
//!
//! `Serialize` writes what DynamoDB returns. `Deserialize` is for TRUSTED
//! data only (items nimbus stored itself): it insists on the structure but
//! reports generic errors and skips DynamoDB's request validation. Request
//! input goes through [`super::decode`] instead.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{AttributeValue, Item};

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        let key = self.type_name();
        match self {
            AttributeValue::S(s) => map.serialize_entry(key, s)?,
            AttributeValue::N(n) => map.serialize_entry(key, n)?,
            AttributeValue::B(b) => map.serialize_entry(key, &Base64(b))?,
            AttributeValue::Bool(b) => map.serialize_entry(key, b)?,
            AttributeValue::Null => map.serialize_entry(key, &true)?,
            AttributeValue::M(m) => map.serialize_entry(key, m)?,
            AttributeValue::L(l) => map.serialize_entry(key, l)?,
            AttributeValue::Ss(ss) => map.serialize_entry(key, ss)?,
            AttributeValue::Ns(ns) => map.serialize_entry(key, ns)?,
            AttributeValue::Bs(bs) => map.serialize_entry(key, &Base64Seq(bs))?,
        }
        map.end()
    }
}

/// Bytes written as a base64 string.
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(self.0))
    }
}

struct Base64Seq<'a>(&'a [Vec<u8>]);

impl Serialize for Base64Seq<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for bytes in self.0 {
            seq.serialize_element(&Base64(bytes))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<AttributeValue, D::Error> {
        deserializer.deserialize_map(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = AttributeValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DynamoDB attribute value with exactly one type key")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AttributeValue, A::Error> {
        let key: TypeKey = map
            .next_key()?
            .ok_or_else(|| de::Error::custom("attribute value has no type"))?;
        let value = match key {
            TypeKey::S => AttributeValue::S(map.next_value()?),
            TypeKey::N => AttributeValue::N(map.next_value()?),
            TypeKey::B => AttributeValue::B(map.next_value::<Base64Owned>()?.0),
            TypeKey::Bool => AttributeValue::Bool(map.next_value()?),
            TypeKey::Null => {
                if !map.next_value::<bool>()? {
                    return Err(de::Error::custom("NULL must be true"));
                }
                AttributeValue::Null
            }
            TypeKey::M => AttributeValue::M(map.next_value::<Item>()?),
            TypeKey::L => AttributeValue::L(map.next_value()?),
            TypeKey::Ss => AttributeValue::Ss(map.next_value()?),
            TypeKey::Ns => AttributeValue::Ns(map.next_value()?),
            TypeKey::Bs => AttributeValue::Bs(map.next_value_seed(Base64SeqSeed)?),
        };
        if map.next_key::<TypeKey>()?.is_some() {
            return Err(de::Error::custom("attribute value has more than one type"));
        }
        Ok(value)
    }
}

/// The ten type keys; anything else is an error in trusted data.
enum TypeKey {
    S,
    N,
    B,
    Bool,
    Null,
    M,
    L,
    Ss,
    Ns,
    Bs,
}

impl<'de> Deserialize<'de> for TypeKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TypeKey, D::Error> {
        struct KeyVisitor;

        impl Visitor<'_> for KeyVisitor {
            type Value = TypeKey;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an attribute value type key")
            }

            fn visit_str<E: de::Error>(self, key: &str) -> Result<TypeKey, E> {
                Ok(match key {
                    "S" => TypeKey::S,
                    "N" => TypeKey::N,
                    "B" => TypeKey::B,
                    "BOOL" => TypeKey::Bool,
                    "NULL" => TypeKey::Null,
                    "M" => TypeKey::M,
                    "L" => TypeKey::L,
                    "SS" => TypeKey::Ss,
                    "NS" => TypeKey::Ns,
                    "BS" => TypeKey::Bs,
                    other => {
                        return Err(E::custom(format!("unknown attribute value type {other}")))
                    }
                })
            }
        }

        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// Bytes read from a base64 string.
struct Base64Owned(Vec<u8>);

impl<'de> Deserialize<'de> for Base64Owned {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Base64Owned, D::Error> {
        struct B64Visitor;

        impl Visitor<'_> for B64Visitor {
            type Value = Base64Owned;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string")
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Base64Owned, E> {
                STANDARD.decode(text).map(Base64Owned).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(B64Visitor)
    }
}

/// A sequence of base64 strings, read straight into `Vec<Vec<u8>>`.
struct Base64SeqSeed;

impl<'de> DeserializeSeed<'de> for Base64SeqSeed {
    type Value = Vec<Vec<u8>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Vec<Vec<u8>>, D::Error> {
        struct SeqVisitor;

        impl<'de> Visitor<'de> for SeqVisitor {
            type Value = Vec<Vec<u8>>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of base64 strings")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Vec<u8>>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
                while let Some(Base64Owned(bytes)) = seq.next_element()? {
                    out.push(bytes);
                }
                Ok(out)
            }
        }

        deserializer.deserialize_seq(SeqVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Number;

    fn round_trip(json: &str) {
        let value: AttributeValue = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&value).unwrap(), json);
    }

    #[test]
    fn writes_and_reads_dynamodb_json() {
        round_trip(r#"{"S":"x"}"#);
        round_trip(r#"{"S":""}"#);
        round_trip(r#"{"N":"1.5"}"#);
        round_trip(r#"{"B":"AAEC/w=="}"#);
        round_trip(r#"{"B":""}"#);
        round_trip(r#"{"BOOL":true}"#);
        round_trip(r#"{"BOOL":false}"#);
        round_trip(r#"{"NULL":true}"#);
        round_trip(r#"{"M":{}}"#);
        round_trip(r#"{"M":{"a":{"S":"x"},"b":{"L":[{"N":"1"},{"NULL":true}]}}}"#);
        round_trip(r#"{"L":[]}"#);
        round_trip(r#"{"SS":["b","a"]}"#);
        round_trip(r#"{"NS":["2","-1.5"]}"#);
        round_trip(r#"{"BS":["YQ==","Yg=="]}"#);
    }

    #[test]
    fn writes_canonical_numbers() {
        let value: AttributeValue = serde_json::from_str(r#"{"NS":["1.50","1e3"]}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"NS":["1.5","1000"]}"#
        );
        let value = AttributeValue::B(vec![0, 1, 2, 255]);
        assert_eq!(
            serde_json::to_string(&value).unwrap(),
            r#"{"B":"AAEC/w=="}"#
        );
    }

    #[test]
    fn rejects_malformed_trusted_data() {
        for json in [
            r#"{}"#,
            r#"{"X":"a"}"#,
            r#"{"S":"a","N":"1"}"#,
            r#"{"S":1}"#,
            r#"{"N":"x"}"#,
            r#"{"B":"***"}"#,
            r#"{"NULL":false}"#,
            r#"{"BS":[1]}"#,
            r#"[]"#,
            r#""S""#,
        ] {
            assert!(
                serde_json::from_str::<AttributeValue>(json).is_err(),
                "{json}"
            );
        }
    }

    #[test]
    fn items_read_as_maps() {
        let item: Item = serde_json::from_str(r#"{"pk":{"S":"a"},"n":{"N":"7"}}"#).unwrap();
        assert_eq!(item.len(), 2);
        assert_eq!(item["n"], AttributeValue::N(Number::parse("7").unwrap()));
    }
}
