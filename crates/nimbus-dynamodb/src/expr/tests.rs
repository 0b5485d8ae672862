//! Tests of the public expression API: every operator, function, path shape,
//! update semantic and error message, driven the way the operations use it.

use std::collections::HashMap;

use super::*;
use crate::model::{AttributeValue, Item, Number};

// ---- helpers -------------------------------------------------------------

fn n(s: &str) -> AttributeValue {
    AttributeValue::N(s.parse::<Number>().expect("number"))
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_string())
}

fn b(v: &[u8]) -> AttributeValue {
    AttributeValue::B(v.to_vec())
}

fn ss(v: &[&str]) -> AttributeValue {
    AttributeValue::Ss(v.iter().map(|x| x.to_string()).collect())
}

fn ns(v: &[&str]) -> AttributeValue {
    AttributeValue::Ns(v.iter().map(|x| x.parse::<Number>().unwrap()).collect())
}

fn l(v: Vec<AttributeValue>) -> AttributeValue {
    AttributeValue::L(v)
}

fn m(pairs: Vec<(&str, AttributeValue)>) -> AttributeValue {
    AttributeValue::M(item(pairs))
}

fn item(pairs: Vec<(&str, AttributeValue)>) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn subs(names: &[(&str, &str)], values: Vec<(&str, AttributeValue)>) -> Substitutions {
    let names: HashMap<String, String> = names
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values: HashMap<String, AttributeValue> = values
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    Substitutions::new(Some(names), Some(values))
}

/// A sample item most condition tests run against.
fn sample() -> Item {
    item(vec![
        ("pk", s("user#1")),
        ("cnt", n("5")),
        ("name_", s("Alice")),
        ("bin", b(&[1, 2, 3])),
        ("flag", AttributeValue::Bool(true)),
        ("nul", AttributeValue::Null),
        ("tags", ss(&["red", "green"])),
        ("nums", ns(&["1", "2"])),
        ("arr", l(vec![s("a"), n("1"), m(vec![("deep", s("x"))])])),
        (
            "doc",
            m(vec![("inr", m(vec![("v", n("10"))])), ("s", s("hello"))]),
        ),
    ])
}

fn values() -> Vec<(&'static str, AttributeValue)> {
    vec![
        (":one", n("1")),
        (":five", n("5")),
        (":ten", n("10")),
        (":alice", s("Alice")),
        (":al", s("Al")),
        (":red", s("red")),
        (":a", s("a")),
        (":z", s("z")),
        (":bin", b(&[1, 2])),
        (":t", AttributeValue::Bool(true)),
        (":null", AttributeValue::Null),
        (":m", m(vec![])),
        (":l", l(vec![s("a")])),
        (":ss", ss(&["red"])),
        (":hello", s("hello")),
        (":two", n("2")),
    ]
}

/// Evaluates a condition against the sample item.
fn check(expr: &str) -> bool {
    let mut sb = subs(&[("#n", "name_"), ("#c", "cnt")], values());
    let c = parse_condition(expr, ExprKind::Condition, &mut sb)
        .unwrap_or_else(|e| panic!("{expr}: {}", e.message));
    c.evaluate(&sample())
}

/// The error a condition gets, with the standard substitutions.
fn cond_err(expr: &str) -> String {
    let mut sb = subs(&[("#n", "name_"), ("#c", "cnt")], values());
    parse_condition(expr, ExprKind::Condition, &mut sb)
        .expect_err(expr)
        .message
}

fn update(expr: &str, it: &mut Item) -> Result<(), ExprError> {
    let mut sb = subs(&[("#n", "name_")], values());
    parse_update(expr, &mut sb)?.apply(it)
}

fn update_err(expr: &str) -> String {
    let mut sb = subs(&[("#n", "name_")], values());
    parse_update(expr, &mut sb).expect_err(expr).message
}

// ---- comparisons -----------------------------------------------------------

#[test]
fn comparators_on_numbers_strings_binaries() {
    assert!(check("#c = :five"));
    assert!(!check("#c = :one"));
    assert!(check("#c <> :one"));
    assert!(check("#c > :one"));
    assert!(check("#c >= :five"));
    assert!(check("#c <= :five"));
    assert!(!check("#c < :five"));
    assert!(check(":one < #c"));
    assert!(check("#n > :al"));
    assert!(check("#n < :z"));
    assert!(check("bin > :bin"));
    assert!(check("pk = pk2 OR pk <> pk2"));
}

#[test]
fn comparisons_across_types_are_false_and_missing_is_not_equal() {
    assert!(!check("#c = :alice"));
    assert!(check("#c <> :alice"));
    assert!(!check("#c < :alice"));
    assert!(!check("absent = :one"));
    assert!(check("absent <> :one"));
    assert!(!check("absent < :one"));
    assert!(!check("flag < nul"));
}

#[test]
fn set_equality_ignores_order() {
    let mut sb = subs(&[], vec![(":s", ss(&["green", "red"]))]);
    let c = parse_condition("tags = :s", ExprKind::Condition, &mut sb).unwrap();
    assert!(c.evaluate(&sample()));
}

#[test]
fn between_and_in() {
    assert!(check("#c BETWEEN :one AND :ten"));
    assert!(check("#c between :five and :five"));
    assert!(!check("#c BETWEEN :one AND :two"));
    assert!(!check("#n BETWEEN :one AND :ten"));
    assert!(check("#c IN (:one, :five)"));
    assert!(!check("#c IN (:one, :ten)"));
    assert!(check("#n in (:alice)"));
    assert!(!check("absent IN (:one)"));
}

#[test]
fn in_allows_one_hundred_values_not_more() {
    let mut vals = Vec::new();
    let mut names = Vec::new();
    for i in 0..101 {
        vals.push((format!(":v{i}"), n(&i.to_string())));
        names.push(format!(":v{i}"));
    }
    let run = |cnt: usize| {
        let mut sb = Substitutions::new(None, Some(vals.iter().cloned().collect()));
        parse_condition(
            &format!("a IN ({})", names[..cnt].join(",")),
            ExprKind::Condition,
            &mut sb,
        )
    };
    assert!(run(100).is_ok());
    assert_eq!(
        run(101).unwrap_err().message,
        "Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101"
    );
}

// ---- functions -------------------------------------------------------------

#[test]
fn attribute_exists_and_not_exists() {
    assert!(check("attribute_exists(pk)"));
    assert!(check("attribute_exists(doc.inr.v)"));
    assert!(check("attribute_exists(arr[2].deep)"));
    assert!(!check("attribute_exists(arr[3])"));
    assert!(!check("attribute_exists(doc.nope)"));
    assert!(check("attribute_not_exists(absent)"));
    assert!(check("attribute_not_exists(pk.subx)"));
    assert!(!check("attribute_not_exists(#n)"));
}

#[test]
fn attribute_type_every_type() {
    let it = sample();
    for (attr, t) in [
        ("pk", "S"),
        ("cnt", "N"),
        ("bin", "B"),
        ("flag", "BOOL"),
        ("nul", "NULL"),
        ("tags", "SS"),
        ("nums", "NS"),
        ("arr", "L"),
        ("doc", "M"),
    ] {
        let mut sb = subs(&[], vec![(":t", s(t))]);
        let c = parse_condition(
            &format!("attribute_type({attr}, :t)"),
            ExprKind::Condition,
            &mut sb,
        )
        .unwrap();
        assert!(c.evaluate(&it), "{attr} {t}");
        let mut sb = subs(&[], vec![(":t", s(if t == "S" { "N" } else { "S" }))]);
        let c = parse_condition(
            &format!("attribute_type({attr}, :t)"),
            ExprKind::Condition,
            &mut sb,
        )
        .unwrap();
        assert!(!c.evaluate(&it), "{attr} not");
    }
    let mut sb = subs(&[], vec![(":t", s("BS"))]);
    assert!(
        !parse_condition("attribute_type(absent, :t)", ExprKind::Condition, &mut sb)
            .unwrap()
            .evaluate(&it)
    );
}

#[test]
fn attribute_type_rejects_unknown_type_and_non_string() {
    let mut sb = subs(&[], vec![(":t", s("STRING"))]);
    assert_eq!(
        parse_condition("attribute_type(a, :t)", ExprKind::Condition, &mut sb).unwrap_err().message,
        "Invalid ConditionExpression: Invalid attribute type name found; type: STRING, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}"
    );
    assert_eq!(
        cond_err("attribute_type(a, :one)"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N"
    );
}

#[test]
fn begins_with_strings_and_binaries() {
    assert!(check("begins_with(#n, :al)"));
    assert!(!check("begins_with(#n, :z)"));
    assert!(check("begins_with(bin, :bin)"));
    assert!(!check("begins_with(#c, :al)"));
    assert!(!check("begins_with(absent, :al)"));
    assert_eq!(
        cond_err("begins_with(a, :one)"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
    );
}

#[test]
fn contains_strings_sets_lists() {
    assert!(check("contains(doc.s, :hello)"));
    assert!(check("contains(#n, :al)"));
    assert!(check("contains(tags, :red)"));
    assert!(!check("contains(tags, :z)"));
    assert!(check("contains(nums, :two)"));
    assert!(!check("contains(nums, :red)"));
    assert!(check("contains(arr, :a)"));
    assert!(check("contains(arr, :one)"));
    assert!(!check("contains(#c, :five)"));
    assert!(check("contains(bin, :bin)"));
}

#[test]
fn size_of_every_sized_type() {
    assert!(check("size(#n) = :five"));
    assert!(check("size(bin) = :two OR size(bin) > :two"));
    assert!(check("size(tags) = :two"));
    assert!(check("size(arr) > :two"));
    assert!(check("size(doc) = :two"));
    assert!(!check("size(#c) = :one"));
    assert!(!check("size(absent) = :one"));
    assert!(check("size(#n) BETWEEN :one AND :ten"));
    assert!(check(":ten > size(#n)"));
    assert!(check(
        "size(arr) IN (:one, size(tags), :ten) OR size(arr) = :five OR size(arr) > :two"
    ));
}

#[test]
fn function_errors() {
    assert_eq!(
        cond_err("foo(a)"),
        "Invalid ConditionExpression: Invalid function name; function: foo"
    );
    assert_eq!(
        cond_err("ATTRIBUTE_EXISTS(a)"),
        "Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS"
    );
    assert_eq!(
        cond_err("list_append(a, :l) = :l"),
        "Invalid ConditionExpression: The function is not allowed in a condition expression; function: list_append"
    );
    assert_eq!(
        cond_err("size(a)"),
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: size"
    );
    assert_eq!(
        cond_err("attribute_exists(a) = :t"),
        "Invalid ConditionExpression: The function is not allowed to be used this way in an expression; function: attribute_exists"
    );
    assert_eq!(
        cond_err("attribute_exists(a, b)"),
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"
    );
    assert_eq!(
        cond_err("size(a, b) = :one"),
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: size, number of operands: 2"
    );
    assert_eq!(
        cond_err("begins_with(a)"),
        "Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: begins_with, number of operands: 1"
    );
    assert_eq!(
        cond_err("attribute_exists(:a)"),
        "Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists"
    );
    assert_eq!(
        cond_err("contains(a, a)"),
        "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: contains, first operand: [a]"
    );
    assert_eq!(
        cond_err("a.b[1] = a.b[1]"),
        "Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a, b, [1]]"
    );
    assert_eq!(
        cond_err("size(:one) = :one"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N"
    );
    assert_eq!(
        cond_err("size(size(a)) = :one"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: size, operand type: N"
    );
}

#[test]
fn ordering_literals_without_order_is_refused() {
    assert_eq!(
        cond_err("a < :m"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: M"
    );
    assert_eq!(
        cond_err(":ss >= a"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: >=, operand type: SS"
    );
    assert_eq!(
        cond_err("a BETWEEN :t AND :one"),
        "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: BOOL"
    );
    // Equality accepts every type.
    assert!(!check("doc = :m"));
    assert!(check("flag = :t"));
    assert!(check("nul = :null"));
}

#[test]
fn between_bounds_are_checked() {
    assert_eq!(
        cond_err("a BETWEEN :ten AND :one"),
        "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {N:1}"
    );
    assert_eq!(
        cond_err("a BETWEEN :one AND :a"),
        "Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:a}"
    );
}

// ---- logic and precedence -------------------------------------------------

#[test]
fn and_or_not_precedence() {
    // a OR b AND c  ==  a OR (b AND c)
    assert!(check("#c = :five OR #c = :one AND #c = :ten"));
    assert!(!check("(#c = :five OR #c = :one) AND #c = :ten"));
    // NOT binds tighter than AND.
    assert!(check("NOT #c = :one AND #c = :five"));
    assert!(!check("NOT (#c = :five AND #c = :five)"));
    assert!(check("not not #c = :five"));
    assert!(!check("NOT NOT NOT #c = :five"));
    assert!(check("NOT attribute_exists(absent)"));
}

#[test]
fn parentheses_around_operands_and_conditions() {
    assert!(check("(#c) = :five"));
    assert!(check("#c = (:five)"));
    assert!(check("(#c = :five)"));
    assert!(check("(#c = :five) AND (attribute_exists(pk))"));
    assert!(check("((#c = :five) AND (#n = :alice)) OR (pk = :one)"));
    assert!(check("size((#n)) = :five"));
}

#[test]
fn redundant_parentheses() {
    for expr in [
        "((#c = :five))",
        "((#c)) = :five",
        "#c = ((:five))",
        "(((#c = :five) OR #c = :one))",
    ] {
        assert_eq!(
            cond_err(expr),
            "Invalid ConditionExpression: The expression has redundant parentheses;",
            "{expr}"
        );
    }
}

#[test]
fn keywords_are_case_insensitive_functions_are_not() {
    assert!(check("#c = :five aNd #n = :alice oR #c = :one"));
    assert!(check("#c bEtWeEn :one AnD :ten"));
}

// ---- syntax errors ----------------------------------------------------------

#[test]
fn syntax_errors_report_token_and_neighbours() {
    let cases = [
        ("attribute_not_exists(", "token: \"\", near: \"(\""),
        ("attribute_exists(pk", "token: \"\", near: \"pk\""),
        ("a =", "token: \"\", near: \"=\""),
        ("a = :v AND", "token: \"\", near: \"AND\""),
        ("a BETWEEN :v", "token: \"\", near: \":v\""),
        ("(a = :v", "token: \"\", near: \":v\""),
        ("a.", "token: \"\", near: \".\""),
        ("a[", "token: \"\", near: \"[\""),
        ("attribute_exists(pk) x", "token: \"x\", near: \") x\""),
        ("attribute_exists(pk) x y", "token: \"x\", near: \") x y\""),
        ("a = 5", "token: \"5\", near: \"= 5\""),
        ("a == :v", "token: \"=\", near: \"== :v\""),
        ("a = @b", "token: \"@\", near: \"= @b\""),
        ("a AND b", "token: \"AND\", near: \"a AND b\""),
        ("a = :v AND b", "token: \"\", near: \"b\""),
        ("a = AND", "token: \"AND\", near: \"= AND\""),
        ("#", "token: \"#\", near: \"#\""),
        ("a[x] = :v", "token: \"x\", near: \"[x]\""),
        (") a", "token: \")\", near: \") a\""),
    ];
    for (expr, tail) in cases {
        let mut sb = subs(&[], vec![(":v", n("1"))]);
        let err = parse_condition(expr, ExprKind::Filter, &mut sb)
            .expect_err(expr)
            .message;
        assert_eq!(
            err,
            format!("Invalid FilterExpression: Syntax error; {tail}"),
            "{expr}"
        );
    }
}

#[test]
fn empty_and_oversized_expressions() {
    let mut sb = subs(&[], vec![]);
    assert_eq!(
        parse_condition("", ExprKind::Condition, &mut sb)
            .unwrap_err()
            .message,
        "Invalid ConditionExpression: The expression can not be empty;"
    );
    assert_eq!(
        parse_condition("   ", ExprKind::Filter, &mut sb)
            .unwrap_err()
            .message,
        "Invalid FilterExpression: The expression can not be empty;"
    );
    let long = format!("a = :v OR {}", "a = :v OR ".repeat(500)) + "a = :v";
    assert!(parse_condition(&long, ExprKind::Condition, &mut sb)
        .unwrap_err()
        .message
        .starts_with("Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: "));
}

// ---- names, values, reserved words ---------------------------------------

#[test]
fn reserved_words_need_aliases() {
    assert_eq!(
        cond_err("status = :one"),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
    assert_eq!(
        cond_err("a.Name = :one"),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Name"
    );
    assert_eq!(
        cond_err("attribute_exists(ttl)"),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: ttl"
    );
    let mut sb = subs(&[("#s", "status")], vec![(":v", s("on"))]);
    let c = parse_condition("#s = :v", ExprKind::Condition, &mut sb).unwrap();
    assert!(c.evaluate(&item(vec![("status", s("on"))])));
    assert!(sb.check_all_used().is_ok());
}

#[test]
fn undefined_names_and_values() {
    assert_eq!(
        cond_err("#nope = :one"),
        "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #nope"
    );
    assert_eq!(
        cond_err("a = :nope"),
        "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :nope"
    );
    let mut sb = subs(&[], vec![]);
    assert_eq!(
        parse_key_condition("#k = :v", &mut sb, "pk", None).unwrap_err().message,
        "Invalid KeyConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #k"
    );
}

#[test]
fn error_categories_are_ordered() {
    // A reserved word is reported before an undefined value, whatever the order.
    assert_eq!(
        cond_err("a = :nope AND status = :one"),
        "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
    // An unknown function before a reserved word.
    assert_eq!(
        cond_err("status = :one AND foo(a)"),
        "Invalid ConditionExpression: Invalid function name; function: foo"
    );
    // A syntax error before anything.
    assert!(cond_err("status = :nope AND (").contains("Syntax error"));
}

#[test]
fn unused_substitutions_across_expressions() {
    let mut sb = subs(
        &[("#a", "a"), ("#b", "b")],
        vec![(":v", n("1")), (":w", n("2"))],
    );
    parse_condition("#a = :v", ExprKind::Filter, &mut sb).unwrap();
    assert_eq!(
        sb.check_all_used().unwrap_err().message,
        "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b}"
    );
    parse_projection("#b", &mut sb).unwrap();
    assert_eq!(
        sb.check_all_used().unwrap_err().message,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:w}"
    );
}

// ---- paths --------------------------------------------------------------------

#[test]
fn path_shapes() {
    assert!(check("doc.inr.v = :ten"));
    assert!(check("doc . inr . v = :ten"));
    assert!(check("arr [ 2 ] . deep = doc.s OR arr[0] = :a"));
    assert!(check("arr[1] = :one"));
    assert!(!check("arr[1].x = :one"));
    let mut sb = subs(&[("#m", "doc"), ("#i", "inr")], vec![(":v", n("10"))]);
    assert!(
        parse_condition("#m.#i.v = :v", ExprKind::Condition, &mut sb)
            .unwrap()
            .evaluate(&sample())
    );
    // A name with a dot in it is one attribute.
    let mut sb = subs(&[("#d", "a.b")], vec![(":v", n("1"))]);
    let c = parse_condition("#d = :v", ExprKind::Condition, &mut sb).unwrap();
    assert!(c.evaluate(&item(vec![("a.b", n("1"))])));
    assert!(!c.evaluate(&item(vec![("a", m(vec![("b", n("1"))]))])));
}

#[test]
fn path_depth_limit() {
    let ok = format!("a{} = :one", ".b".repeat(31));
    let too_deep = format!("a{} = :one", ".b".repeat(32));
    let mut sb = subs(&[], values());
    assert!(parse_condition(&ok, ExprKind::Condition, &mut sb).is_ok());
    assert_eq!(
        cond_err(&too_deep),
        "Invalid ConditionExpression: The document path has too many nesting levels; nesting levels: 33"
    );
    let mut sb = subs(&[], vec![]);
    assert_eq!(
        parse_projection(&format!("a{}", "[0]".repeat(32)), &mut sb).unwrap_err().message,
        "Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33"
    );
}

// ---- bounded recursion --------------------------------------------------------

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let mut sb = subs(&[], vec![(":v", n("1"))]);
    // Far past the size limit: refused before tokenizing.
    let huge = format!("{}a = :v{}", "(".repeat(100_000), ")".repeat(100_000));
    assert!(parse_condition(&huge, ExprKind::Condition, &mut sb).is_err());
    // Within the size limit, nesting itself is refused.
    let deep = format!("{}a = :v{}", "(".repeat(2000), ")".repeat(2000));
    let err = parse_condition(&deep, ExprKind::Condition, &mut sb)
        .unwrap_err()
        .message;
    assert!(err.contains("nesting levels"), "{err}");
    let nots = format!("{}a = :v", "NOT ".repeat(1000));
    assert!(parse_condition(&nots, ExprKind::Condition, &mut sb)
        .unwrap_err()
        .message
        .contains("nesting levels"));
    let nots = format!("{}a = :v", "NOT ".repeat(100_000));
    assert!(parse_condition(&nots, ExprKind::Condition, &mut sb).is_err());
    let calls = format!("{}a{} = :v", "size(".repeat(1500), ")".repeat(1500));
    assert!(parse_condition(&calls, ExprKind::Condition, &mut sb).is_err());
    let unclosed = "(".repeat(4000);
    assert!(parse_condition(&unclosed, ExprKind::Condition, &mut sb).is_err());
    let upd = format!(
        "SET a = {}:v{}",
        "if_not_exists(a, ".repeat(300),
        ")".repeat(300)
    );
    assert!(parse_update(&upd, &mut sb).is_err());
    // Moderate nesting works.
    let ok = format!("{}NOT a = :v{}", "(".repeat(50), ")".repeat(50));
    let err = parse_condition(&ok, ExprKind::Condition, &mut sb)
        .unwrap_err()
        .message;
    assert_eq!(
        err,
        "Invalid ConditionExpression: The expression has redundant parentheses;"
    );
}

#[test]
fn operator_limit() {
    let mut sb = subs(&[], vec![(":v", n("1"))]);
    let at_limit = vec!["a = :v"; 150].join(" OR ");
    assert!(parse_condition(&at_limit, ExprKind::Condition, &mut sb).is_ok());
    let over = vec!["a = :v"; 151].join(" OR ");
    assert_eq!(
        parse_condition(&over, ExprKind::Condition, &mut sb).unwrap_err().message,
        "Invalid ConditionExpression: The expression contains too many operators; operator count: 301"
    );
}

// ---- projection -------------------------------------------------------------

#[test]
fn projection_keeps_structure() {
    let mut sb = subs(&[("#n", "name_")], vec![]);
    let p = parse_projection(
        "pk, #n, doc.inr.v, arr[2].deep, arr[0], absent, doc.nope.x",
        &mut sb,
    )
    .unwrap();
    let out = p.apply(&sample());
    assert_eq!(
        out,
        item(vec![
            ("pk", s("user#1")),
            ("name_", s("Alice")),
            ("doc", m(vec![("inr", m(vec![("v", n("10"))]))])),
            ("arr", l(vec![s("a"), m(vec![("deep", s("x"))])])),
        ])
    );
    assert_eq!(p.paths.len(), 7);
}

#[test]
fn projection_list_elements_compact_in_index_order() {
    let mut sb = subs(&[], vec![]);
    let it = item(vec![("l", l(vec![n("0"), n("1"), n("2"), n("3")]))]);
    let p = parse_projection("l[3], l[1], l[9]", &mut sb).unwrap();
    assert_eq!(p.apply(&it), item(vec![("l", l(vec![n("1"), n("3")]))]));
    let p = parse_projection("l.x", &mut sb).unwrap();
    assert!(p.apply(&it).is_empty());
}

#[test]
fn projection_errors() {
    let mut sb = subs(&[], vec![]);
    assert_eq!(
        parse_projection("a, a.b", &mut sb).unwrap_err().message,
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    );
    assert_eq!(
        parse_projection("a, b, a", &mut sb).unwrap_err().message,
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"
    );
    assert_eq!(
        parse_projection("a[0], a.b", &mut sb).unwrap_err().message,
        "Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
    );
    assert_eq!(
        parse_projection("a, size", &mut sb).unwrap_err().message,
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: size"
    );
    assert_eq!(
        parse_projection("a,", &mut sb).unwrap_err().message,
        "Invalid ProjectionExpression: Syntax error; token: \"\", near: \",\""
    );
    assert_eq!(
        parse_projection("", &mut sb).unwrap_err().message,
        "Invalid ProjectionExpression: The expression can not be empty;"
    );
    assert_eq!(
        parse_projection("#x", &mut sb).unwrap_err().message,
        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: #x"
    );
    assert!(parse_projection("a b", &mut sb)
        .unwrap_err()
        .message
        .contains("Syntax error; token: \"b\""));
}

// ---- update: SET -------------------------------------------------------------

#[test]
fn set_values_and_arithmetic() {
    let mut it = item(vec![("pk", s("k")), ("cnt", n("5"))]);
    update(
        "SET a = :one, b = cnt + :ten, c = :ten - cnt, #n = :alice",
        &mut it,
    )
    .unwrap();
    assert_eq!(it.get("a"), Some(&n("1")));
    assert_eq!(it.get("b"), Some(&n("15")));
    assert_eq!(it.get("c"), Some(&n("5")));
    assert_eq!(it.get("name_"), Some(&s("Alice")));
    // Right-hand sides read the item as it was: swap.
    let mut it = item(vec![("x", n("1")), ("y", n("2"))]);
    update("SET x = y, y = x", &mut it).unwrap();
    assert_eq!(it, item(vec![("x", n("2")), ("y", n("1"))]));
}

#[test]
fn set_if_not_exists_and_list_append() {
    let mut it = item(vec![("l", l(vec![s("b")])), ("e", n("7"))]);
    update(
        "SET e = if_not_exists(e, :one), f = if_not_exists(f, :one), l = list_append(l, :l)",
        &mut it,
    )
    .unwrap();
    assert_eq!(it.get("e"), Some(&n("7")));
    assert_eq!(it.get("f"), Some(&n("1")));
    assert_eq!(it.get("l"), Some(&l(vec![s("b"), s("a")])));
    update("SET l = list_append(:l, l)", &mut it).unwrap();
    assert_eq!(it.get("l"), Some(&l(vec![s("a"), s("b"), s("a")])));
    update("SET g = if_not_exists(g, :ten) + :one", &mut it).unwrap();
    assert_eq!(it.get("g"), Some(&n("11")));
    update("SET h = list_append(if_not_exists(h, :l), :l)", &mut it).unwrap();
    assert_eq!(it.get("h"), Some(&l(vec![s("a"), s("a")])));
}

#[test]
fn set_nested_paths_and_list_indexes() {
    let mut it = item(vec![
        ("m", m(vec![("a", n("1"))])),
        ("l", l(vec![n("0"), n("1")])),
    ]);
    update(
        "SET m.b = :two, m.a = :ten, l[0] = :a, l[5] = :z, l[9] = :one",
        &mut it,
    )
    .unwrap();
    assert_eq!(it.get("m"), Some(&m(vec![("a", n("10")), ("b", n("2"))])));
    assert_eq!(it.get("l"), Some(&l(vec![s("a"), n("1"), s("z"), n("1")])));
    let mut it = Item::new();
    assert_eq!(
        update("SET m.b = :two", &mut it).unwrap_err().message,
        "The document path provided in the update expression is invalid for update"
    );
    let mut it = item(vec![("s", s("x")), ("m", m(vec![]))]);
    for expr in [
        "SET s.b = :two",
        "SET s[0] = :two",
        "SET m[0] = :two",
        "SET m.x.y = :two",
    ] {
        assert_eq!(
            update(expr, &mut it).unwrap_err().message,
            "The document path provided in the update expression is invalid for update",
            "{expr}"
        );
    }
}

#[test]
fn set_runtime_errors_leave_item_untouched() {
    let orig = item(vec![("s", s("x")), ("n", n("1")), ("m", m(vec![]))]);
    let mut it = orig.clone();
    assert_eq!(
        update("SET a = :one, b = s + :one", &mut it)
            .unwrap_err()
            .message,
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(it, orig);
    assert_eq!(
        update("SET a = absent + :one", &mut it)
            .unwrap_err()
            .message,
        "The provided expression refers to an attribute that does not exist in the item"
    );
    assert_eq!(
        update("SET a = absent", &mut it).unwrap_err().message,
        "The provided expression refers to an attribute that does not exist in the item"
    );
    assert_eq!(
        update("SET a = list_append(m, :l)", &mut it)
            .unwrap_err()
            .message,
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        update("SET a = list_append(absent, :l)", &mut it)
            .unwrap_err()
            .message,
        "The provided expression refers to an attribute that does not exist in the item"
    );
    assert_eq!(it, orig);
}

// ---- update: REMOVE, ADD, DELETE ---------------------------------------------

#[test]
fn remove_attributes_and_list_elements() {
    let mut it = item(vec![
        ("a", n("1")),
        ("m", m(vec![("x", n("1")), ("y", n("2"))])),
        ("l", l(vec![s("a"), s("b"), s("c"), s("d"), s("e")])),
    ]);
    update(
        "REMOVE a, m.x, l[1], l[3], absent, m.nope, l[10], nope.deeper",
        &mut it,
    )
    .unwrap();
    assert_eq!(
        it,
        item(vec![
            ("m", m(vec![("y", n("2"))])),
            ("l", l(vec![s("a"), s("c"), s("e")]))
        ])
    );
}

#[test]
fn add_numbers_and_sets() {
    let mut it = item(vec![("c", n("5")), ("tags", ss(&["red", "blue"]))]);
    let mut sb = subs(
        &[],
        vec![
            (":n", n("-7")),
            (":s", ss(&["blue", "green"])),
            (":ns", ns(&["1"])),
        ],
    );
    parse_update("ADD c :n, tags :s, fresh :n, fresh_set :ns", &mut sb)
        .unwrap()
        .apply(&mut it)
        .unwrap();
    assert_eq!(it.get("c"), Some(&n("-2")));
    assert_eq!(it.get("tags"), Some(&ss(&["red", "blue", "green"])));
    assert_eq!(it.get("fresh"), Some(&n("-7")));
    assert_eq!(it.get("fresh_set"), Some(&ns(&["1"])));
    let mut sb = subs(&[], vec![(":n", n("1")), (":s", ss(&["x"]))]);
    let upd = parse_update("ADD tags :n", &mut sb).unwrap();
    assert_eq!(
        upd.apply(&mut it).unwrap_err().message,
        "An operand in the update expression has an incorrect data type"
    );
    let mut it2 = item(vec![("c", s("x"))]);
    assert_eq!(
        parse_update("ADD c :s", &mut sb)
            .unwrap()
            .apply(&mut it2)
            .unwrap_err()
            .message,
        "An operand in the update expression has an incorrect data type"
    );
    let mut it3 = item(vec![("m", m(vec![]))]);
    parse_update("ADD m.n :n", &mut sb)
        .unwrap()
        .apply(&mut it3)
        .unwrap();
    assert_eq!(it3.get("m"), Some(&m(vec![("n", n("1"))])));
    assert_eq!(
        parse_update("ADD nope.n :n", &mut sb)
            .unwrap()
            .apply(&mut it3)
            .unwrap_err()
            .message,
        "The document path provided in the update expression is invalid for update"
    );
}

#[test]
fn delete_from_sets() {
    let mut it = item(vec![
        ("tags", ss(&["red", "blue"])),
        ("nums", ns(&["1", "2"])),
        ("s", s("x")),
    ]);
    let mut sb = subs(
        &[],
        vec![(":s", ss(&["red", "nothere"])), (":all", ns(&["1", "2"]))],
    );
    parse_update("DELETE tags :s, nums :all, absent :s", &mut sb)
        .unwrap()
        .apply(&mut it)
        .unwrap();
    assert_eq!(it.get("tags"), Some(&ss(&["blue"])));
    assert_eq!(it.get("nums"), None);
    assert_eq!(
        parse_update("DELETE s :s", &mut sb)
            .unwrap()
            .apply(&mut it)
            .unwrap_err()
            .message,
        "An operand in the update expression has an incorrect data type"
    );
    assert_eq!(
        parse_update("DELETE tags :all", &mut sb)
            .unwrap()
            .apply(&mut it)
            .unwrap_err()
            .message,
        "An operand in the update expression has an incorrect data type"
    );
}

#[test]
fn add_and_delete_operand_types_checked_at_parse() {
    assert_eq!(
        update_err("ADD a :a"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND"
    );
    assert_eq!(
        update_err("DELETE a :one"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND"
    );
    assert_eq!(
        update_err("SET a = b + :a"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S"
    );
    assert_eq!(
        update_err("SET a = list_append(a, :m)"),
        "Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: M"
    );
}

#[test]
fn all_clauses_together_in_any_order() {
    let mut it = item(vec![
        ("r", n("1")),
        ("c", n("1")),
        ("tags", ss(&["red", "x"])),
    ]);
    let mut sb = subs(&[], vec![(":one", n("1")), (":red", ss(&["red"]))]);
    parse_update("delete tags :red add c :one remove r set s = :one", &mut sb)
        .unwrap()
        .apply(&mut it)
        .unwrap();
    assert_eq!(
        it,
        item(vec![("c", n("2")), ("s", n("1")), ("tags", ss(&["x"]))])
    );
}

#[test]
fn update_parse_errors() {
    assert_eq!(
        update_err("SET a = :one SET b = :one"),
        "Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;"
    );
    assert_eq!(
        update_err("REMOVE a REMOVE b"),
        "Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update expression;"
    );
    assert_eq!(
        update_err("SET a = :one, a.b = :two"),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]"
    );
    assert_eq!(
        update_err("SET a = :one REMOVE a"),
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]"
    );
    assert_eq!(
        update_err("SET a[0] = :one REMOVE a.b"),
        "Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, [0]], path two: [a, b]"
    );
    assert_eq!(
        update_err("SET a = foo(b)"),
        "Invalid UpdateExpression: Invalid function name; function: foo"
    );
    assert_eq!(
        update_err("SET a = size(b)"),
        "Invalid UpdateExpression: The function is not allowed in an update expression; function: size"
    );
    assert_eq!(
        update_err("SET a = list_append(b)"),
        "Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1"
    );
    assert_eq!(
        update_err("SET a = if_not_exists(:one, b)"),
        "Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists"
    );
    assert_eq!(
        update_err("SET status = :one"),
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status"
    );
    assert_eq!(
        update_err("SET a = :undefined"),
        "Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :undefined"
    );
    assert_eq!(
        update_err("SET a :one"),
        "Invalid UpdateExpression: Syntax error; token: \":one\", near: \"a :one\""
    );
    assert_eq!(
        update_err("SET a = :one,"),
        "Invalid UpdateExpression: Syntax error; token: \"\", near: \",\""
    );
    assert_eq!(
        update_err("a = :one"),
        "Invalid UpdateExpression: Syntax error; token: \"a\", near: \"a =\""
    );
    assert_eq!(
        update_err("SET a = :one, #, b = :one"),
        "Invalid UpdateExpression: Syntax error; token: \"#\", near: \", #,\""
    );
    assert_eq!(
        update_err("REMOVE"),
        "Invalid UpdateExpression: Syntax error; token: \"\", near: \"REMOVE\""
    );
    assert_eq!(
        update_err("ADD a b"),
        "Invalid UpdateExpression: Syntax error; token: \"b\", near: \"a b\""
    );
    assert_eq!(
        update_err(""),
        "Invalid UpdateExpression: The expression can not be empty;"
    );
}

#[test]
fn update_reports_paths_and_top_level_attributes() {
    let mut sb = subs(&[("#n", "name_")], vec![(":v", n("1")), (":s", ss(&["a"]))]);
    let upd = parse_update(
        "SET #n = :v, m.x[1] = :v REMOVE r ADD m.y :v DELETE tags :s",
        &mut sb,
    )
    .unwrap();
    assert_eq!(upd.top_level_attributes(), vec!["name_", "m", "r", "tags"]);
    let paths: Vec<String> = upd.paths().map(|p| p.to_string()).collect();
    assert_eq!(paths, vec!["name_", "m.x[1]", "r", "m.y", "tags"]);
    assert!(sb.check_all_used().is_ok());
}

// ---- key conditions ------------------------------------------------------------

fn key(expr: &str, range: Option<&str>) -> Result<KeyCondition, ExprError> {
    let mut sb = subs(&[("#pk", "pk")], values());
    parse_key_condition(expr, &mut sb, "pk", range)
}

#[test]
fn key_condition_shapes() {
    let k = key("pk = :a", None).unwrap();
    assert_eq!(
        k,
        KeyCondition {
            partition: ("pk".into(), s("a")),
            sort: None
        }
    );
    let k = key("#pk = :a AND sk > :one", Some("sk")).unwrap();
    assert_eq!(k.sort, Some(SortCondition::Gt(n("1"))));
    let k = key("sk <= :one AND pk = :a", Some("sk")).unwrap();
    assert_eq!(k.partition.0, "pk");
    assert_eq!(k.sort, Some(SortCondition::Le(n("1"))));
    let k = key("(pk = :a) AND (sk BETWEEN :one AND :ten)", Some("sk")).unwrap();
    assert_eq!(k.sort, Some(SortCondition::Between(n("1"), n("10"))));
    let k = key("pk = :a AND begins_with(sk, :al)", Some("sk")).unwrap();
    assert_eq!(k.sort, Some(SortCondition::BeginsWith(s("Al"))));
    let k = key(":a = pk AND :one < sk", Some("sk")).unwrap();
    assert_eq!(k.sort, Some(SortCondition::Gt(n("1"))));
    for (expr, sort) in [
        ("pk = :a AND sk = :one", SortCondition::Eq(n("1"))),
        ("pk = :a AND sk < :one", SortCondition::Lt(n("1"))),
        ("pk = :a AND sk >= :one", SortCondition::Ge(n("1"))),
    ] {
        assert_eq!(key(expr, Some("sk")).unwrap().sort, Some(sort));
    }
}

#[test]
fn sort_condition_matching() {
    assert!(SortCondition::Between(n("1"), n("10")).matches(&n("10")));
    assert!(!SortCondition::Between(n("1"), n("10")).matches(&n("11")));
    assert!(SortCondition::BeginsWith(s("ab")).matches(&s("abc")));
    assert!(!SortCondition::BeginsWith(s("ab")).matches(&n("1")));
    assert!(SortCondition::Lt(s("b")).matches(&s("a")));
    assert!(!SortCondition::Eq(s("1")).matches(&n("1")));
}

#[test]
fn key_condition_errors() {
    assert_eq!(
        key("sk = :one", Some("sk")).unwrap_err().message,
        "Query condition missed key schema element: pk"
    );
    assert_eq!(
        key("pk = :a AND attr2 = :one", Some("sk"))
            .unwrap_err()
            .message,
        "Query condition missed key schema element: sk"
    );
    assert_eq!(
        key("pk > :a", None).unwrap_err().message,
        "Query key condition not supported"
    );
    assert_eq!(
        key("pk = :a AND sk = :one", None).unwrap_err().message,
        "Query key condition not supported"
    );
    assert_eq!(
        key("pk = :a OR sk = :one", Some("sk")).unwrap_err().message,
        "Invalid operator used in KeyConditionExpression: OR"
    );
    assert_eq!(
        key("pk = :a AND NOT sk = :one", Some("sk"))
            .unwrap_err()
            .message,
        "Invalid operator used in KeyConditionExpression: NOT"
    );
    assert_eq!(
        key("pk = :a AND sk <> :one", Some("sk"))
            .unwrap_err()
            .message,
        "Invalid operator used in KeyConditionExpression: <>"
    );
    assert_eq!(
        key("pk = :a AND sk IN (:one)", Some("sk"))
            .unwrap_err()
            .message,
        "Invalid operator used in KeyConditionExpression: IN"
    );
    assert_eq!(
        key("pk = :a AND contains(sk, :a)", Some("sk"))
            .unwrap_err()
            .message,
        "Invalid operator used in KeyConditionExpression: contains"
    );
    assert_eq!(
        key("pk = :a AND pk = :z", Some("sk")).unwrap_err().message,
        "KeyConditionExpressions must only contain one condition per key"
    );
    assert!(key("pk = :a AND sk = :one AND sk = :two", Some("sk")).is_err());
    assert_eq!(
        key("pk = :a AND begins_with(sk, :one)", Some("sk")).unwrap_err().message,
        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"
    );
    assert_eq!(
        key("pk = sk", Some("sk")).unwrap_err().message,
        "Invalid KeyConditionExpression: Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
    );
    assert_eq!(
        key("pk.x = :a", None).unwrap_err().message,
        "KeyConditionExpressions cannot have conditions on nested attributes"
    );
    assert_eq!(
        key("pk = :a AND", Some("sk")).unwrap_err().message,
        "Invalid KeyConditionExpression: Syntax error; token: \"\", near: \"AND\""
    );
    assert_eq!(
        key("", None).unwrap_err().message,
        "Invalid KeyConditionExpression: The expression can not be empty;"
    );
}

// ---- robustness ------------------------------------------------------------------

/// A tiny deterministic generator, so "arbitrary input" runs are repeatable.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn random_inputs_never_panic() {
    let pieces = [
        "a",
        "#n",
        ":one",
        ":m",
        ".",
        "[",
        "]",
        "0",
        "1",
        "(",
        ")",
        ",",
        "=",
        "<>",
        "<",
        ">=",
        "+",
        "-",
        " AND ",
        " OR ",
        "NOT ",
        " BETWEEN ",
        " IN ",
        "size",
        "contains",
        "begins_with",
        "attribute_exists",
        "attribute_type",
        "if_not_exists",
        "list_append",
        "SET ",
        "REMOVE ",
        "ADD ",
        "DELETE ",
        "status",
        "@",
        "é",
        "#",
        ":",
        "99999999999999999999",
    ];
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..20_000 {
        let len = (xorshift(&mut state) % 12) as usize;
        let mut expr = String::new();
        for _ in 0..len {
            expr.push_str(pieces[(xorshift(&mut state) % pieces.len() as u64) as usize]);
        }
        let mut sb = subs(&[("#n", "name_")], values());
        if let Ok(c) = parse_condition(&expr, ExprKind::Filter, &mut sb) {
            c.evaluate(&sample());
        }
        if let Ok(u) = parse_update(&expr, &mut sb) {
            let mut it = sample();
            let _ = u.apply(&mut it);
        }
        if let Ok(p) = parse_projection(&expr, &mut sb) {
            p.apply(&sample());
        }
        let _ = parse_key_condition(&expr, &mut sb, "pk", Some("sk"));
    }
}
