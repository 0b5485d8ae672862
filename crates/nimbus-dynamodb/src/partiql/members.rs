//! The request framework's checks on PartiQL request members, in AWS's
//! "1 validation error detected: ..." form, written once for the three
//! operations.

use serde_json::Value;

use crate::codec::Violations;

/// Longest statement, in characters.
pub const MAX_STATEMENT: usize = 8192;

/// A string member's length: at least one character, at most `max`.
pub fn check_length(v: &mut Violations, value: Option<&str>, member: &str, max: usize) {
    let Some(s) = value else { return };
    let len = s.chars().count();
    if len < 1 {
        v.add(
            &Violations::quoted(s),
            member,
            "Member must have length greater than or equal to 1",
        );
    }
    if len > max {
        v.add(
            &Violations::quoted(s),
            member,
            &format!("Member must have length less than or equal to {max}"),
        );
    }
}

/// A required statement.
pub fn check_statement(v: &mut Violations, statement: Option<&str>, member: &str) {
    match statement {
        None => v.add("null", member, "Member must not be null"),
        Some(_) => check_length(v, statement, member, MAX_STATEMENT),
    }
}

/// A Parameters member holds at least one value.
pub fn check_parameters(v: &mut Violations, parameters: Option<&[Value]>, member: &str) {
    if parameters.is_some_and(|p| p.is_empty()) {
        v.add(
            "'[]'",
            member,
            "Member must have length greater than or equal to 1",
        );
    }
}

/// The list of statements of a batch or a transaction: required, 1 to
/// `max` long.
pub fn check_list(v: &mut Violations, len: Option<usize>, member: &str, max: usize) {
    match len {
        None => v.add("null", member, "Member must not be null"),
        Some(0) => v.add(
            "'[]'",
            member,
            "Member must have length greater than or equal to 1",
        ),
        // AWS prints the list's Java rendering here; its length is what matters.
        Some(n) if n > max => v.add(
            "'[...]'",
            member,
            &format!("Member must have length less than or equal to {max}"),
        ),
        Some(_) => {}
    }
}

/// One statement of a batch or a transaction (`base` is its member path,
/// `statements.1.member`).
pub fn check_member(
    v: &mut Violations,
    base: &str,
    statement: Option<&str>,
    parameters: Option<&[Value]>,
    return_old: Option<&str>,
) {
    check_statement(v, statement, &format!("{base}.statement"));
    check_parameters(v, parameters, &format!("{base}.parameters"));
    if let Some(r) = return_old.filter(|r| *r != "ALL_OLD" && *r != "NONE") {
        v.add(
            &Violations::quoted(r),
            &format!("{base}.returnValuesOnConditionCheckFailure"),
            "Member must satisfy enum value set: [ALL_OLD, NONE]",
        );
    }
}
