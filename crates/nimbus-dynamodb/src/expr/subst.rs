//! `ExpressionAttributeNames` and `ExpressionAttributeValues` of one request.
//!
//! One `Substitutions` is shared by all expressions of a request (a Query's
//! key condition, filter and projection draw on the same maps), and it records
//! which entries were used: AWS rejects a request that supplies a name or
//! value none of its expressions mention.

use std::collections::{BTreeSet, HashMap};

use super::ExprError;
use crate::model::AttributeValue;

#[derive(Debug, Default)]
pub struct Substitutions {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl Substitutions {
    pub fn new(
        names: Option<HashMap<String, String>>,
        values: Option<HashMap<String, AttributeValue>>,
    ) -> Self {
        Substitutions {
            names: names.unwrap_or_default(),
            values: values.unwrap_or_default(),
            used_names: BTreeSet::new(),
            used_values: BTreeSet::new(),
        }
    }

    /// Looks up `#name`, marking it used.
    pub(crate) fn name(&mut self, placeholder: &str) -> Option<String> {
        let resolved = self.names.get(placeholder)?.clone();
        self.used_names.insert(placeholder.to_string());
        Some(resolved)
    }

    /// Looks up `:value`, marking it used.
    pub(crate) fn value(&mut self, placeholder: &str) -> Option<AttributeValue> {
        let resolved = self.values.get(placeholder)?.clone();
        self.used_values.insert(placeholder.to_string());
        Some(resolved)
    }

    /// To call after every expression of the request has been parsed: fails
    /// if a supplied name or value was never referenced. Names are checked
    /// before values; the keys are listed sorted.
    pub fn check_all_used(&self) -> Result<(), ExprError> {
        let unused_names: BTreeSet<&str> = self
            .names
            .keys()
            .filter(|k| !self.used_names.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused_names.is_empty() {
            return Err(ExprError::bare(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                unused_names.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        let unused_values: BTreeSet<&str> = self
            .values
            .keys()
            .filter(|k| !self.used_values.contains(*k))
            .map(String::as_str)
            .collect();
        if !unused_values.is_empty() {
            return Err(ExprError::bare(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                unused_values.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        Ok(())
    }

    /// Checks the keys of both maps have placeholder syntax (`#` or `:`
    /// followed by letters, digits or underscores), as AWS does before it
    /// looks at any expression. Emptiness of the maps themselves is the
    /// operation's concern (it depends on the request).
    pub fn validate_keys(&self) -> Result<(), ExprError> {
        fn well_formed(key: &str, sigil: char) -> bool {
            let mut chars = key.chars();
            chars.next() == Some(sigil)
                && key.len() > 1
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        }
        let mut names: Vec<&String> = self.names.keys().collect();
        names.sort();
        if let Some(bad) = names.into_iter().find(|k| !well_formed(k, '#')) {
            return Err(ExprError::bare(format!(
                "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{bad}\""
            )));
        }
        let mut values: Vec<&String> = self.values.keys().collect();
        values.sort();
        if let Some(bad) = values.into_iter().find(|k| !well_formed(k, ':')) {
            return Err(ExprError::bare(format!(
                "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{bad}\""
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(names: &[(&str, &str)], values: &[&str]) -> Substitutions {
        Substitutions::new(
            Some(
                names
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            Some(
                values
                    .iter()
                    .map(|k| (k.to_string(), AttributeValue::Null))
                    .collect(),
            ),
        )
    }

    #[test]
    fn lookups_mark_use() {
        let mut s = subs(&[("#a", "alpha"), ("#b", "beta")], &[":v", ":w"]);
        assert_eq!(s.name("#a").as_deref(), Some("alpha"));
        assert_eq!(s.name("#zz"), None);
        assert_eq!(s.value(":v"), Some(AttributeValue::Null));
        assert_eq!(
            s.check_all_used().unwrap_err().message,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
        );
        s.name("#b");
        assert_eq!(
            s.check_all_used().unwrap_err().message,
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
        );
        s.value(":w");
        assert!(s.check_all_used().is_ok());
    }

    #[test]
    fn several_unused_are_listed_sorted() {
        let s = subs(&[("#b", "x"), ("#a", "y")], &[]);
        assert_eq!(
            s.check_all_used().unwrap_err().message,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#a, #b}"
        );
    }

    #[test]
    fn none_means_empty() {
        assert!(Substitutions::new(None, None).check_all_used().is_ok());
    }

    #[test]
    fn key_syntax() {
        assert!(subs(&[("#a_1", "x")], &[":v0"]).validate_keys().is_ok());
        assert_eq!(
            subs(&[("a", "x")], &[])
                .validate_keys()
                .unwrap_err()
                .message,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"a\""
        );
        assert_eq!(
            subs(&[("#a-b", "x")], &[])
                .validate_keys()
                .unwrap_err()
                .message,
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"#a-b\""
        );
        assert_eq!(
            subs(&[], &["v"]).validate_keys().unwrap_err().message,
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"v\""
        );
        assert!(subs(&[], &[":"]).validate_keys().is_err());
    }
}
