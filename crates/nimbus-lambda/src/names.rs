//! Function names, qualifiers and ARNs: every place a function is named
//! accepts a bare name, a partial ARN (`123456789012:function:name`) or a
//! full ARN, each optionally ending in `:qualifier` (a version or alias).

use crate::error::{LambdaError, Result};

/// The pattern AWS states in its validation message for function names.
const NAME_PATTERN: &str = "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?";

/// Longest function name.
pub const MAX_NAME_LEN: usize = 64;
/// The unpublished version every function has.
pub const LATEST: &str = "$LATEST";

/// A function named by a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    /// The qualifier written into the name (`name:alias`), if any.
    pub qualifier: Option<String>,
}

/// Parses a `FunctionName` member (from a path or body).
pub fn parse_function_ref(input: &str) -> Result<FunctionRef> {
    let invalid = || {
        LambdaError::constraint(
            input,
            "functionName",
            &format!("Member must satisfy regular expression pattern: {NAME_PATTERN}"),
        )
    };
    if input.is_empty() || input.len() > 170 {
        return Err(LambdaError::constraint(
            input,
            "functionName",
            "Member must have length less than or equal to 170",
        ));
    }
    let parts: Vec<&str> = input.split(':').collect();
    let (name, qualifier) = match parts.as_slice() {
        ["arn", partition, "lambda", region, account, "function", name, rest @ ..]
            if partition.starts_with("aws")
                && !region.is_empty()
                && is_account(account)
                && rest.len() <= 1 =>
        {
            (*name, rest.first().copied())
        }
        [account, "function", name, rest @ ..] if is_account(account) && rest.len() <= 1 => {
            (*name, rest.first().copied())
        }
        [name] => (*name, None),
        [name, qualifier] => (*name, Some(*qualifier)),
        _ => return Err(invalid()),
    };
    if !valid_name(name) {
        return Err(invalid());
    }
    if let Some(q) = qualifier {
        if !valid_qualifier(q) {
            return Err(invalid());
        }
    }
    Ok(FunctionRef {
        name: name.to_owned(),
        qualifier: qualifier.map(str::to_owned),
    })
}

/// Combines the qualifier written in a name with a separate `Qualifier`
/// member; AWS refuses the two when they disagree.
pub fn merge_qualifier(r: &FunctionRef, param: Option<&str>) -> Result<Option<String>> {
    match (r.qualifier.as_deref(), param) {
        (Some(a), Some(b)) if a != b => Err(LambdaError::invalid(
            "The derived qualifier from the function name does not match the specified qualifier.",
        )),
        (Some(a), _) => Ok(Some(a.to_owned())),
        (None, Some(b)) => {
            if !valid_qualifier(b) {
                return Err(LambdaError::constraint(
                    b,
                    "qualifier",
                    "Member must satisfy regular expression pattern: (|[a-zA-Z0-9$_-]+)",
                ));
            }
            Ok(Some(b.to_owned()))
        }
        (None, None) => Ok(None),
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// A function's own name: 1 to 64 of `[a-zA-Z0-9-_]`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME_LEN
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `$LATEST`, a version number or an alias name.
pub fn valid_qualifier(q: &str) -> bool {
    q == LATEST
        || (!q.is_empty()
            && q.len() <= 128
            && q.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

/// An alias name: like a qualifier, but never all digits (that would be a
/// version).
pub fn valid_alias_name(name: &str) -> bool {
    valid_qualifier(name) && name != LATEST && !name.bytes().all(|b| b.is_ascii_digit())
}

pub fn function_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}")
}

pub fn qualified_arn(region: &str, account: &str, name: &str, qualifier: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{name}:{qualifier}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(name: &str, q: Option<&str>) -> FunctionRef {
        FunctionRef {
            name: name.into(),
            qualifier: q.map(Into::into),
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(parse_function_ref("f").unwrap(), r("f", None));
        assert_eq!(parse_function_ref("f:prod").unwrap(), r("f", Some("prod")));
        assert_eq!(
            parse_function_ref("f:$LATEST").unwrap(),
            r("f", Some("$LATEST"))
        );
        assert_eq!(
            parse_function_ref("000000000000:function:f:3").unwrap(),
            r("f", Some("3"))
        );
        assert_eq!(
            parse_function_ref("arn:aws:lambda:us-east-1:000000000000:function:my-fn").unwrap(),
            r("my-fn", None)
        );
        assert_eq!(
            parse_function_ref("arn:aws:lambda:us-east-1:000000000000:function:my-fn:live")
                .unwrap(),
            r("my-fn", Some("live"))
        );
    }

    #[test]
    fn refuses_malformed_names() {
        for bad in [
            "",
            "a b",
            "f:",
            "f:a:b",
            "arn:aws:lambda:us-east-1:1:function:f",
            "f/g",
        ] {
            let err = parse_function_ref(bad).unwrap_err();
            assert!(matches!(err, LambdaError::Validation(_)), "{bad}: {err:?}");
        }
        assert!(parse_function_ref(&"a".repeat(65)).is_err());
    }

    #[test]
    fn qualifiers_must_agree() {
        let f = r("f", Some("1"));
        assert_eq!(merge_qualifier(&f, Some("1")).unwrap(), Some("1".into()));
        assert!(merge_qualifier(&f, Some("2")).is_err());
        assert_eq!(merge_qualifier(&r("f", None), None).unwrap(), None);
        assert!(valid_alias_name("live"));
        assert!(!valid_alias_name("12"));
        assert!(!valid_alias_name("$LATEST"));
    }
}
