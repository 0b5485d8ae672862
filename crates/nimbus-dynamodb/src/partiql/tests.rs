//! Parser and translation tests: statements in, trees or DynamoDB's exact
//! error texts out.

use super::ast::*;
use super::error::text;
use super::parser::{parse, Parsed, MAX_DEPTH};
use super::translate::{condition, update_expression, Writer};
use crate::model::AttributeValue;

const NOT_WELL_FORMED: &str = "Statement wasn't well formed, can't be processed: ";

fn ok(src: &str) -> Parsed {
    parse(src).unwrap_or_else(|e| panic!("{src}: {}", text(&e)))
}

fn err(src: &str) -> String {
    match parse(src) {
        Ok(p) => panic!("{src} parsed: {:?}", p.statement),
        Err(e) => text(&e),
    }
}

fn select(src: &str) -> Select {
    match ok(src).statement {
        Statement::Select(s) => s,
        other => panic!("not a select: {other:?}"),
    }
}

/// The WHERE of a SELECT, translated, with its placeholders resolved back
/// into names and values for reading.
fn where_text(src: &str, params: &[AttributeValue]) -> Result<String, String> {
    let s = select(src);
    let mut w = Writer::new();
    let c = condition(s.filter.as_ref().expect("a WHERE"), params, &mut w).map_err(|e| text(&e))?;
    Ok(c.render(&mut w).unwrap_or_else(|| "<true>".into()))
}

#[test]
fn keywords_are_sorted() {
    // is_keyword binary-searches the list.
    for w in ["select", "value", "size", "inner", "pad", "date", "key"] {
        assert!(super::parser::is_keyword(w), "{w}");
        assert!(super::parser::is_keyword(&w.to_ascii_uppercase()), "{w}");
    }
    for w in ["pk", "artist", "status", "name", "data", "type"] {
        assert!(!super::parser::is_keyword(w), "{w}");
    }
}

#[test]
fn select_shapes() {
    let s = select("SELECT * FROM \"Music\" WHERE Artist = 'Acme' AND SongTitle = ?");
    assert_eq!(s.projection, Projection::All);
    assert_eq!(s.source.table, "Music");
    assert_eq!(s.source.index, None);
    let ExprKind::And(items) = &s.filter.unwrap().kind else {
        panic!()
    };
    assert_eq!(items.len(), 2);

    let s =
        select("select a, b.c[2], \"d e\" from tab.\"idx\" where x in [1, 2] order by k desc, r");
    assert_eq!(s.source.index.as_deref(), Some("idx"));
    let Projection::Paths(paths) = &s.projection else {
        panic!()
    };
    assert_eq!(
        paths[1].0,
        vec![
            Step::Name("b".into()),
            Step::Name("c".into()),
            Step::Index(2)
        ]
    );
    assert_eq!(paths[2].0, vec![Step::Name("d e".into())]);
    assert_eq!(s.order_by.len(), 2);
    assert!(s.order_by[0].descending);
    assert!(!s.order_by[1].descending);

    // Comments and a trailing semicolon.
    ok("-- note\nSELECT * FROM tab /* here */ WHERE pk = 1; ");
    assert_eq!(
        ok("SELECT * FROM tab WHERE a = ? AND b IN [?, ?]").parameters,
        3
    );
}

#[test]
fn dml_shapes() {
    let Statement::Update(u) =
        ok("UPDATE \"Music\" SET a = 1 SET b.c = list_append(b.c, [2]), d = d + 1 REMOVE e[0] WHERE k = 'x' RETURNING MODIFIED NEW *").statement
    else {
        panic!()
    };
    assert_eq!(u.actions.len(), 4);
    assert_eq!(u.returning, Some(Returning::ModifiedNew));
    assert!(
        matches!(&u.actions[3], Action::Remove(p) if p == &vec![Step::Name("e".into()), Step::Index(0)])
    );

    let Statement::Delete(d) = ok("DELETE FROM tab WHERE k = 1 RETURNING ALL OLD *").statement
    else {
        panic!()
    };
    assert_eq!(d.returning, Some(Returning::AllOld));

    let Statement::Insert(i) = ok("INSERT INTO tab VALUE {'k': ?, 'v': <<1, 2>>}").statement else {
        panic!()
    };
    assert!(matches!(i.value.kind, ExprKind::Tuple(ref m) if m.len() == 2));

    // FROM-first update.
    let Statement::Update(u) = ok("FROM tab WHERE k = 1 SET a = 2").statement else {
        panic!()
    };
    assert!(u.filter.is_some());

    assert!(matches!(
        ok("EXISTS(SELECT * FROM tab WHERE k = 1 AND a IS MISSING)").statement,
        Statement::Exists(_)
    ));
}

#[test]
fn syntax_errors_read_like_dynamodb() {
    let leftover = format!("{NOT_WELL_FORMED}Unexpected token after expression");
    for src in [
        "SELECT * FROM tab WHERE pk = 1 foo",
        "SELECT * FROM tab WHERE pk = 1 e5",
        "INSERT INTO tab VALUE {'pk': 1} foo",
        "UPDATE tab SET a = 9 WHERE pk = 2 foo",
        "DELETE FROM tab WHERE pk = 3 foo",
        "SELECT * FROM tab WHERE pk = 1)",
        "DELETE FROM tab WHERE pk = 4 ORDER BY pk",
        "SELECT * FROM tab ORDER BY pk WHERE pk = 1",
        "INSERT INTO tab x VALUE {'pk': 'x'}",
        "FROM tab SET c = 1 WHERE pk = 'x'",
    ] {
        assert_eq!(err(src), leftover, "{src}");
    }
    for src in [
        "SELECT * FROM tab WHERE",
        "SELECT * FROM tab WHERE;",
        "SELECT * FROM tab WHERE   ",
        "SELECT pk FROM tab WHERE",
        "UPDATE tab SET a = 1 WHERE",
        "DELETE FROM tab WHERE",
        "SELECT * FROM tab WHERE NOT",
        "SELECT * FROM tab WHERE (",
        "SELECT * FROM",
    ] {
        assert_eq!(
            err(src),
            format!("{NOT_WELL_FORMED}Unexpected term"),
            "{src}"
        );
    }
    assert_eq!(
        err("SELECT * FROM tab WHERE pk = 'p1' AND"),
        format!("{NOT_WELL_FORMED}Missing right-hand side expression of infix operator")
    );
    assert_eq!(
        err("SELECT * FROM tab WHERE pk = 'p1' OR"),
        format!("{NOT_WELL_FORMED}Missing right-hand side expression of infix operator")
    );
    assert_eq!(
        err("SELECT * FROM tab WHERE ORDER BY pk"),
        format!("{NOT_WELL_FORMED}Unexpected keyword")
    );
    assert_eq!(
        err("SELECT * FROM tab WHERE pk = 'a' AND x IS FOO"),
        format!("{NOT_WELL_FORMED}Expected type name")
    );
    assert_eq!(
        err("SELECT * FROM tab WHERE IS NULL"),
        format!("{NOT_WELL_FORMED}Unexpected operator")
    );
    assert_eq!(
        err("SELECT * FROM tab WHERE pk = LIKE"),
        format!("{NOT_WELL_FORMED}Unexpected operator")
    );
    for src in [
        "DELETE FROM",
        "DELETE FROM   ",
        "DELETE FROM;",
        "DELETE FROM WHERE pk = 'a'",
    ] {
        assert_eq!(
            err(src),
            format!("{NOT_WELL_FORMED}Expected identifier for simple path"),
            "{src}"
        );
    }
    assert_eq!(
        err("SELECT * FROM tab WHERE attribute_exists(m.inner)"),
        format!("{NOT_WELL_FORMED}Invalid path dot component")
    );
    assert_eq!(
        err("SELECT * FROM tab WHERE pad = 'none'"),
        format!("{NOT_WELL_FORMED}Unexpected keyword")
    );
    assert_eq!(
        err("SLECT * FROM \"Users\""),
        format!("{NOT_WELL_FORMED}Expected data manipulation")
    );
    for src in [
        "SELECT * FROM tab WHERE pk = 1 # note",
        "SELECT * FROM tab WHERE pk = 1e99999999999",
    ] {
        assert_eq!(err(src), NOT_WELL_FORMED, "{src:?}");
    }
    assert_eq!(
        err("SELECT * FROM tab; SELECT * FROM tab"),
        format!("{NOT_WELL_FORMED}Unexpected token after semicolon. (Only one query is allowed.)")
    );
    assert_eq!(
        err("SELECT a FROM tab WHERE (a = 1"),
        format!("{NOT_WELL_FORMED}Expected RIGHT_PAREN")
    );
    assert_eq!(
        err("SELECT *, a FROM tab"),
        format!("{NOT_WELL_FORMED}Other expressions may not be present in the select list when '*' is used without dot notation.")
    );
    assert_eq!(
        err("SELECT a"),
        format!("{NOT_WELL_FORMED}Expected FROM after SELECT list")
    );
}

#[test]
fn refusals_after_parsing() {
    for src in [
        "SELECT * FROM tab x WHERE pk = 'x'",
        "SELECT * FROM tab AS x WHERE pk = 'x'",
        "UPDATE tab x SET a = 3 WHERE pk = 'x'",
        "DELETE FROM tab x WHERE pk = 'x'",
    ] {
        assert_eq!(err(src), "Aliasing is not supported", "{src}");
    }
    assert_eq!(
        err("SELECT * FROM tab.i.j WHERE pk = 'p'"),
        "A path may contain at most 2 components in the FROM clause"
    );
    assert_eq!(
        err("SELECT * FROM \"\" WHERE pk = 'p'"),
        "Path component cannot be an empty string"
    );
    assert_eq!(
        err("SELECT * FROM tab.\"\" WHERE pk = 'p'"),
        "Path component cannot be an empty string"
    );
    assert_eq!(
        err("SELECT * FROM tab LIMIT 5"),
        "Unsupported clause: LIMIT"
    );
    assert_eq!(
        err("SELECT attribute_exists(a) FROM tab WHERE pk = 1"),
        "Unexpected path component at 1:8:16"
    );
    assert_eq!(err("x IS INT4"), "Unsupported operation: IsType");
    assert_eq!(
        err("INSERT INTO tab VALUE {'a': 1} RETURNING ALL OLD *"),
        "RETURNING is not supported in INSERT"
    );
    assert_eq!(
        err("UPDATE tab SET a = 1 WHERE k = 1 RETURNING ALL NEW *, ALL OLD *"),
        "Invalid syntax with multiple returning elements in RETURNING clause"
    );
    assert_eq!(
        err("UPDATE tab SET a = 1 WHERE k = 1 RETURNING ALL NEW a"),
        "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
    );
    assert_eq!(
        err("SELECT * FROM ab WHERE k = 1"),
        super::error::TABLE_NAME
    );
    // A syntax error after a refusal still wins.
    assert_eq!(
        err("SELECT * FROM tab x WHERE pk = 'x' foo"),
        format!("{NOT_WELL_FORMED}Unexpected token after expression")
    );
}

#[test]
fn nesting_is_bounded() {
    // The server's worker threads have 8 MiB stacks (a debug build's parser
    // frames need more than a test thread's default 2 MiB at the bound).
    std::thread::Builder::new()
        .stack_size(8 * 1024 * 1024)
        .spawn(nesting_checks)
        .unwrap()
        .join()
        .unwrap();
}

fn nesting_checks() {
    let deep = format!(
        "SELECT * FROM tab WHERE {}a = 1{}",
        "(".repeat(5000),
        ")".repeat(5000)
    );
    assert!(err(&deep).starts_with(NOT_WELL_FORMED));
    let chain = format!("SELECT * FROM tab WHERE a = {}", "1 + ".repeat(3000) + "1");
    assert!(err(&chain).starts_with(NOT_WELL_FORMED));
    let not_chain = format!("SELECT * FROM tab WHERE {} a = 1", "NOT ".repeat(3000));
    assert!(err(&not_chain).starts_with(NOT_WELL_FORMED));
    let list = format!("{}1{}", "[".repeat(3000), "]".repeat(3000));
    assert!(err(&format!("SELECT * FROM tab WHERE a = {list}")).starts_with(NOT_WELL_FORMED));
    // Long flat chains of AND / OR are fine: they stay flat.
    let flat = format!(
        "SELECT * FROM tab WHERE {}",
        vec!["a = 1"; 2 * MAX_DEPTH].join(" OR ")
    );
    let s = select(&flat);
    assert!(matches!(s.filter.unwrap().kind, ExprKind::Or(ref v) if v.len() == 2 * MAX_DEPTH));
}

#[test]
fn conditions_translate_to_expressions() {
    let n = |s: &str| AttributeValue::N(crate::model::Number::parse(s).unwrap());
    assert_eq!(
        where_text(
            "SELECT * FROM tab WHERE a = 1 AND (b <> 'x' OR NOT c < 2)",
            &[]
        )
        .unwrap(),
        "#0 = :0 AND (#1 <> :1 OR NOT #2 < :2)"
    );
    assert_eq!(
        where_text("SELECT * FROM tab WHERE a.b[1] BETWEEN ? AND 5", &[n("1")]).unwrap(),
        "#0.#1[1] BETWEEN :0 AND :1"
    );
    assert_eq!(
        where_text("SELECT * FROM tab WHERE a IN (1, 2) AND b NOT IN [3]", &[]).unwrap(),
        "#0 IN (:0, :1) AND NOT #1 IN (:2)"
    );
    assert_eq!(
        where_text(
            "SELECT * FROM tab WHERE a IS MISSING OR b IS NOT MISSING",
            &[]
        )
        .unwrap(),
        "attribute_not_exists(#0) OR NOT attribute_not_exists(#1)"
    );
    assert_eq!(
        where_text("SELECT * FROM tab WHERE a IS NULL AND b IS BOOL", &[]).unwrap(),
        "attribute_type(#0, :0) AND attribute_type(#1, :1)"
    );
    assert_eq!(
        where_text(
            "SELECT * FROM tab WHERE ATTRIBUTE_EXISTS(\"a\") = true AND begins_with(b, 'x') AND size(c) > 3",
            &[]
        )
        .unwrap(),
        "attribute_exists(#0) AND begins_with(#1, :0) AND size(#2) > :1"
    );
    assert_eq!(
        where_text("SELECT * FROM tab WHERE contains(a, 'x') = false", &[]).unwrap(),
        "NOT contains(#0, :0)"
    );
    // Decided without the item.
    assert_eq!(
        where_text("SELECT * FROM tab WHERE 'x' IS MISSING OR a = 1", &[]).unwrap(),
        "#0 = :0"
    );
    assert_eq!(
        where_text("SELECT * FROM tab WHERE true", &[]).unwrap(),
        "<true>"
    );
    // The same name twice uses one placeholder.
    assert_eq!(
        where_text("SELECT * FROM tab WHERE a = 1 OR a = 2", &[]).unwrap(),
        "#0 = :0 OR #0 = :1"
    );
}

#[test]
fn condition_errors() {
    let e = |src: &str| where_text(src, &[]).unwrap_err();
    assert_eq!(
        e("SELECT * FROM tab WHERE attribute_exists()"),
        "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 0"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE attribute_exists(a, b)"),
        "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE pk = 'x' AND EXISTS(ss)"),
        "Unrecognized function: exists at 1:38:6"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE set_add(ss, <<'x'>>) = ss"),
        "Unrecognized function: set_add at 1:25:7"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE a = MISSING"),
        "MISSING must be compared using IS operator"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE a IS INT"),
        "Unsupported data type for IS operator: INTEGER. Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE 1 IN [1]"),
        "IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE a IN []"),
        "IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE a"),
        "WHERE clause must contain an expression that resolves to a boolean"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE a = 1 AND b"),
        "The arguments to AND/OR must be Expressions"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE NOT b"),
        "The argument to NOT must be a Type or Expression"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE a + 1 = 2"),
        "Unsupported operator in Condition Expression. Operator: +"
    );
    assert_eq!(
        e("SELECT * FROM tab WHERE a LIKE 'x%'"),
        "Unsupported operator in Condition Expression. Operator: LIKE"
    );
}

fn update_text(src: &str, params: &[AttributeValue]) -> Result<String, String> {
    let Statement::Update(u) = ok(src).statement else {
        panic!()
    };
    let mut w = Writer::new();
    update_expression(&u.actions, params, &mut w).map_err(|e| text(&e))
}

#[test]
fn updates_translate() {
    assert_eq!(
        update_text(
            "UPDATE tab SET a = 1 SET b = b + 2 SET l = list_append(l, [3]) REMOVE r WHERE k = 1",
            &[]
        )
        .unwrap(),
        "SET #0 = :0, #1 = #1 + :1, #2 = list_append(#2, :2) REMOVE #3"
    );
    assert_eq!(
        update_text(
            "UPDATE tab SET ss = set_add(ss, <<'a'>>) SET ns = SET_DELETE(ns, <<1>>) WHERE k = 1",
            &[]
        )
        .unwrap(),
        "ADD #0 :0 DELETE #1 :1"
    );
}

#[test]
fn update_errors() {
    let e = |src: &str| update_text(src, &[]).unwrap_err();
    assert_eq!(
        e("UPDATE tab SET t = set_add(ss, <<'x'>>) WHERE pk = 'p'"),
        "The first argument to SET_ADD must equal the assignment value at 1:20:7"
    );
    assert_eq!(
        e("UPDATE tab SET ss = set_add(ss, 'x') WHERE pk = 'p'"),
        "The second argument to SET_ADD must be a value with type SET at 1:29:2"
    );
    assert_eq!(
        e("UPDATE tab SET ss = set_add(ss) WHERE pk = 'p'"),
        "SET_ADD must have exactly two arguments at 1:21:7"
    );
    assert_eq!(
        e("UPDATE tab SET ss = set_delete(ss, <<>>) WHERE pk = 'p'"),
        "Empty bags are not supported"
    );
    assert_eq!(
        e("UPDATE tab SET a = b IS NULL WHERE k = 1"),
        "IS operator is not supported in update expressions"
    );
    assert_eq!(
        e("UPDATE tab SET a = 1 + 2 + 3 WHERE k = 1"),
        "Unsupported operator in Update Expression. Operator: +"
    );
    assert_eq!(
        e("UPDATE tab SET a = foo(b) WHERE k = 1"),
        "Unrecognized function: foo at 1:20:3"
    );
}
