//! DynamoDB single-item operations (PutItem, GetItem, UpdateItem, DeleteItem)
//! through the official AWS SDK for Rust against a live `nimbus serve`:
//! every attribute type, conditions, update expressions, ReturnValues,
//! projections, consumed capacity and the 400 KB item limit.

mod common;
mod sdk;

use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use sdk::*;

const CCF: &str = "ConditionalCheckFailedException";
const CCF_TEXT: &str = "The conditional request failed";
const T: &str = "items";

async fn setup() -> Nimbus {
    let nimbus = start().await;
    hash_table(&nimbus.client, T).await;
    nimbus
}

fn key(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

async fn put(c: &Client, it: &Item) {
    ok(c.put_item()
        .table_name(T)
        .set_item(Some(it.clone()))
        .send()
        .await);
}

async fn get(c: &Client, pk: &str) -> Option<Item> {
    ok(c.get_item()
        .table_name(T)
        .set_key(Some(key(pk)))
        .consistent_read(true)
        .send()
        .await)
    .item
}

fn every_type() -> Item {
    let all_bytes: Vec<u8> = (0..=255).collect();
    item(&[
        ("pk", s("every")),
        ("s", s("héllo wörld ✓ \u{1F600} \"quoted\" \\ \n")),
        ("empty_s", s("")),
        ("n", n("42")),
        ("neg", n("-3.25")),
        ("big", n("12345678901234567890123456789012345678")),
        ("small", n("-0.12345678901234567890123456789012345678")),
        ("huge", n("9.9999999999999999999999999999999999999E+125")),
        ("tiny", n("1E-130")),
        ("b", b(all_bytes.clone())),
        ("empty_b", b(Vec::new())),
        ("t", boolean(true)),
        ("f", boolean(false)),
        ("z", null()),
        ("ss", ss(&["a", "b", "c", "ünï"])),
        (
            "ns",
            ns(&["1", "2.5", "-7", "12345678901234567890123456789012345678"]),
        ),
        ("bs", bs(&[b"\x01", b"\x02\x03", b"\xff\x00"])),
        (
            "l",
            l(vec![
                s("x"),
                n("1"),
                l(vec![]),
                m(&[]),
                null(),
                boolean(true),
                b(vec![9u8]),
                l(vec![l(vec![s("deep")])]),
            ]),
        ),
        (
            "m",
            m(&[
                (
                    "inner",
                    m(&[("deep", l(vec![ss(&["q"]), b(vec![7u8]), ns(&["0"])]))]),
                ),
                ("flag", boolean(false)),
                ("bin", bs(&[b"\x00"])),
                ("", s("empty name")),
            ]),
        ),
    ])
}

/// Numbers come back in DynamoDB's canonical form; these are the values above
/// that are not already written canonically.
fn canonical(it: &Item) -> Item {
    let mut it = it.clone();
    it.insert(
        "huge".into(),
        n(format!(
            "99999999999999999999999999999999999999{}",
            "0".repeat(88)
        )),
    );
    it.insert("tiny".into(), n(format!("0.{}1", "0".repeat(129))));
    it
}

#[tokio::test]
async fn every_attribute_type_round_trips() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let original = every_type();
    let out = ok(c
        .put_item()
        .table_name(T)
        .set_item(Some(original.clone()))
        .send()
        .await);
    assert_eq!(out.attributes(), None);

    let expected = canonical(&original);
    let strong = get(c, "every").await.expect("item");
    assert_item_eq(&strong, &expected);
    let eventual = ok(c
        .get_item()
        .table_name(T)
        .set_key(Some(key("every")))
        .send()
        .await);
    assert_item_eq(eventual.item().expect("item"), &expected);

    // The stored item is a fixed point: writing what was read changes nothing.
    put(c, &strong).await;
    assert_item_eq(&get(c, "every").await.unwrap(), &expected);
}

#[tokio::test]
async fn binary_and_number_keys() {
    let nimbus = start().await;
    let c = &nimbus.client;
    create_table(
        c,
        "bin",
        ("pk", ScalarAttributeType::B),
        Some(("sk", ScalarAttributeType::N)),
    )
    .await;
    let k = |pk: &[u8], sk: &str| item(&[("pk", b(pk.to_vec())), ("sk", n(sk))]);
    let mut stored = k(b"\x00\xff", "1.50");
    stored.insert("v".into(), s("bin"));
    ok(c.put_item()
        .table_name("bin")
        .set_item(Some(stored))
        .send()
        .await);
    // 1.5 and 1.50 are the same number, so they address the same item.
    let got = ok(c
        .get_item()
        .table_name("bin")
        .set_key(Some(k(b"\x00\xff", "1.5")))
        .send()
        .await);
    assert_eq!(
        got.item(),
        Some(&item(&[
            ("pk", b(vec![0u8, 255])),
            ("sk", n("1.5")),
            ("v", s("bin"))
        ]))
    );
    let miss = ok(c
        .get_item()
        .table_name("bin")
        .set_key(Some(k(b"\x00\xfe", "1.5")))
        .send()
        .await);
    assert_eq!(miss.item(), None);
}

#[tokio::test]
async fn conditional_put_for_idempotency() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let first = item(&[
        ("pk", s("order-1")),
        ("amount", n(100)),
        ("tags", ss(&["a"])),
    ]);
    ok(c.put_item()
        .table_name(T)
        .set_item(Some(first.clone()))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await);

    // A retry of the same request is refused and reports the stored item.
    let retry = item(&[("pk", s("order-1")), ("amount", n(999))]);
    let err = expect_error(
        c.put_item()
            .table_name(T)
            .set_item(Some(retry.clone()))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await,
        CCF,
        CCF_TEXT,
    );
    match err {
        PutItemError::ConditionalCheckFailedException(e) => {
            assert_item_eq(e.item().expect("old item"), &first);
        }
        other => panic!("unexpected {other:?}"),
    }

    // Without ALL_OLD the error carries no item.
    let err = expect_error(
        c.put_item()
            .table_name(T)
            .set_item(Some(retry))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await,
        CCF,
        CCF_TEXT,
    );
    match err {
        PutItemError::ConditionalCheckFailedException(e) => assert_eq!(e.item(), None),
        other => panic!("unexpected {other:?}"),
    }

    // Nothing was written by the failed attempts.
    assert_item_eq(&get(c, "order-1").await.unwrap(), &first);

    // A condition on a missing item sees no attributes.
    expect_error(
        c.delete_item()
            .table_name(T)
            .set_key(Some(key("absent")))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await,
        CCF,
        CCF_TEXT,
    );
    expect_error(
        c.update_item()
            .table_name(T)
            .set_key(Some(key("absent")))
            .update_expression("SET a = :v")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":v", s("v"))
            .send()
            .await,
        CCF,
        CCF_TEXT,
    );
    assert_eq!(get(c, "absent").await, None);
}

#[tokio::test]
async fn optimistic_locking_with_version_condition() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(
        c,
        &item(&[("pk", s("ver")), ("version", n(1)), ("v", s("a"))]),
    )
    .await;
    let bump = |expected: i64| {
        c.update_item()
            .table_name(T)
            .set_key(Some(key("ver")))
            .update_expression("SET version = version + :one, v = :new")
            .condition_expression("version = :expected")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":expected", n(expected))
            .expression_attribute_values(":new", s(format!("v{expected}")))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
    };
    ok(bump(1).await);
    let err = expect_error(bump(1).await, CCF, CCF_TEXT);
    match err {
        UpdateItemError::ConditionalCheckFailedException(e) => assert_eq!(
            e.item(),
            Some(&item(&[
                ("pk", s("ver")),
                ("version", n(2)),
                ("v", s("v1"))
            ]))
        ),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(
        get(c, "ver").await.unwrap(),
        item(&[("pk", s("ver")), ("version", n(2)), ("v", s("v1"))])
    );
}

fn base_item() -> Item {
    item(&[
        ("pk", s("u")),
        ("keep", s("same")),
        ("n", n(10)),
        ("price", n("19.99")),
        ("l", l(vec![s("l0"), s("l1"), s("l2")])),
        ("ss", ss(&["a", "b"])),
        ("ns", ns(&["1", "2"])),
        ("m", m(&[("x", n(1)), ("y", m(&[("z", s("deep"))]))])),
        ("gone", s("bye")),
    ])
}

#[tokio::test]
async fn update_set_arithmetic_and_functions_all_new() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(c, &base_item()).await;
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key("u")))
        .update_expression(
            "SET n = n + :one, price = price - :disc, created = if_not_exists(created, :now), \
             keep = if_not_exists(keep, :other), l = list_append(l, :more), \
             hist = list_append(if_not_exists(hist, :empty), :entry), m.y.z = :deeper, \
             m.#new = :one, neg = :one - n",
        )
        .expression_attribute_names("#new", "new key")
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":disc", n("0.99"))
        .expression_attribute_values(":now", n(1_700_000_000))
        .expression_attribute_values(":other", s("other"))
        .expression_attribute_values(":more", l(vec![s("l3")]))
        .expression_attribute_values(":empty", l(vec![]))
        .expression_attribute_values(":entry", l(vec![s("e1")]))
        .expression_attribute_values(":deeper", s("deeper"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await);
    let expected = item(&[
        ("pk", s("u")),
        ("keep", s("same")),
        ("n", n(11)),
        ("price", n(19)),
        ("created", n(1_700_000_000)),
        ("l", l(vec![s("l0"), s("l1"), s("l2"), s("l3")])),
        ("hist", l(vec![s("e1")])),
        ("ss", ss(&["a", "b"])),
        ("ns", ns(&["1", "2"])),
        (
            "m",
            m(&[
                ("x", n(1)),
                ("y", m(&[("z", s("deeper"))])),
                ("new key", n(1)),
            ]),
        ),
        ("gone", s("bye")),
        // Operands are read from the item as it was before the update.
        ("neg", n(-9)),
    ]);
    assert_item_eq(out.attributes().expect("ALL_NEW attributes"), &expected);
    assert_item_eq(&get(c, "u").await.unwrap(), &expected);

    // Prepending with list_append(:x, l), and if_not_exists on a present value.
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key("u")))
        .update_expression(
            "SET l = list_append(:first, l), created = if_not_exists(created, :later)",
        )
        .expression_attribute_values(":first", l(vec![s("first")]))
        .expression_attribute_values(":later", n(1))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await);
    assert_eq!(
        out.attributes(),
        Some(&item(&[
            ("l", l(vec![s("first"), s("l0"), s("l1"), s("l2"), s("l3")])),
            ("created", n(1_700_000_000)),
        ]))
    );
}

#[tokio::test]
async fn update_remove_add_delete_updated_old() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(c, &base_item()).await;
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key("u")))
        .update_expression(
            "REMOVE gone, nothing_here ADD n :five, ss :more, cnt :one, fresh :more \
             DELETE ns :one_set",
        )
        .expression_attribute_values(":five", n(5))
        .expression_attribute_values(":one", n(1))
        .expression_attribute_values(":more", ss(&["b", "c"]))
        .expression_attribute_values(":one_set", ns(&["1", "99"]))
        .return_values(ReturnValue::UpdatedOld)
        .send()
        .await);
    // Only attributes that existed before and were touched.
    assert_item_eq(
        out.attributes().expect("UPDATED_OLD attributes"),
        &item(&[
            ("gone", s("bye")),
            ("n", n(10)),
            ("ss", ss(&["a", "b"])),
            ("ns", ns(&["1", "2"])),
        ]),
    );
    let now = get(c, "u").await.unwrap();
    let mut expected = base_item();
    expected.remove("gone");
    expected.insert("n".into(), n(15));
    expected.insert("ss".into(), ss(&["a", "b", "c"]));
    expected.insert("cnt".into(), n(1));
    expected.insert("fresh".into(), ss(&["b", "c"]));
    expected.insert("ns".into(), ns(&["2"]));
    assert_item_eq(&now, &expected);

    // REMOVE of list elements shifts the rest; DELETE of every member
    // removes the attribute; ADD of a negative number subtracts.
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key("u")))
        .update_expression("REMOVE l[0], l[2], m.y DELETE ss :all ADD n :minus")
        .expression_attribute_values(":all", ss(&["a", "b", "c"]))
        .expression_attribute_values(":minus", n("-15.5"))
        .return_values(ReturnValue::AllNew)
        .send()
        .await);
    let attrs = out.attributes().expect("ALL_NEW");
    assert_eq!(attrs.get("l"), Some(&l(vec![s("l1")])));
    assert_eq!(attrs.get("ss"), None);
    assert_eq!(attrs.get("m"), Some(&m(&[("x", n(1))])));
    assert_eq!(attrs.get("n"), Some(&n("-0.5")));

    // ADD creates the item when it is missing.
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key("hits")))
        .update_expression("ADD hits :one")
        .expression_attribute_values(":one", n(1))
        .return_values(ReturnValue::AllNew)
        .send()
        .await);
    assert_eq!(
        out.attributes(),
        Some(&item(&[("pk", s("hits")), ("hits", n(1))]))
    );
    // UPDATED_OLD of a new item has nothing to return.
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key("fresh-item")))
        .update_expression("SET a = :v")
        .expression_attribute_values(":v", s("v"))
        .return_values(ReturnValue::UpdatedOld)
        .send()
        .await);
    assert_eq!(out.attributes(), None);
}

#[tokio::test]
async fn exact_decimal_arithmetic() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(
        c,
        &item(&[
            ("pk", s("math")),
            ("a", n("0.1")),
            ("big", n("99999999999999999999999999999999999998")),
        ]),
    )
    .await;
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key("math")))
        .update_expression("SET a = a + :two_tenths ADD big :one")
        .expression_attribute_values(":two_tenths", n("0.2"))
        .expression_attribute_values(":one", n(1))
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await);
    assert_eq!(
        out.attributes(),
        Some(&item(&[
            ("a", n("0.3")),
            ("big", n("99999999999999999999999999999999999999")),
        ]))
    );
}

#[tokio::test]
async fn put_and_delete_return_values() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let v1 = item(&[("pk", s("r")), ("v", n(1)), ("extra", s("x"))]);
    let v2 = item(&[("pk", s("r")), ("v", n(2))]);
    let out = ok(c
        .put_item()
        .table_name(T)
        .set_item(Some(v1.clone()))
        .return_values(ReturnValue::AllOld)
        .send()
        .await);
    assert_eq!(out.attributes(), None);
    let out = ok(c
        .put_item()
        .table_name(T)
        .set_item(Some(v2.clone()))
        .return_values(ReturnValue::AllOld)
        .send()
        .await);
    assert_eq!(out.attributes(), Some(&v1));
    // PutItem replaces the whole item.
    assert_eq!(get(c, "r").await, Some(v2.clone()));

    let out = ok(c
        .delete_item()
        .table_name(T)
        .set_key(Some(key("r")))
        .return_values(ReturnValue::AllOld)
        .send()
        .await);
    assert_eq!(out.attributes(), Some(&v2));
    assert_eq!(get(c, "r").await, None);
    // Deleting a missing item succeeds and returns nothing.
    let out = ok(c
        .delete_item()
        .table_name(T)
        .set_key(Some(key("r")))
        .return_values(ReturnValue::AllOld)
        .send()
        .await);
    assert_eq!(out.attributes(), None);

    // Conditional delete: refused while the condition is false, with the
    // old item on request.
    put(c, &v1).await;
    let err = expect_error(
        c.delete_item()
            .table_name(T)
            .set_key(Some(key("r")))
            .condition_expression("v = :two")
            .expression_attribute_values(":two", n(2))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await,
        CCF,
        CCF_TEXT,
    );
    match err {
        DeleteItemError::ConditionalCheckFailedException(e) => assert_eq!(e.item(), Some(&v1)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(get(c, "r").await, Some(v1.clone()));
    ok(c.delete_item()
        .table_name(T)
        .set_key(Some(key("r")))
        .condition_expression("v = :one")
        .expression_attribute_values(":one", n(1))
        .send()
        .await);
    assert_eq!(get(c, "r").await, None);

    for rv in [
        ReturnValue::AllNew,
        ReturnValue::UpdatedOld,
        ReturnValue::UpdatedNew,
    ] {
        expect_error(
            c.put_item()
                .table_name(T)
                .set_item(Some(v1.clone()))
                .return_values(rv.clone())
                .send()
                .await,
            "ValidationException",
            "Return values set to invalid value",
        );
        expect_error(
            c.delete_item()
                .table_name(T)
                .set_key(Some(key("r")))
                .return_values(rv)
                .send()
                .await,
            "ValidationException",
            "Return values set to invalid value",
        );
    }
    assert_eq!(get(c, "r").await, None);
}

#[tokio::test]
async fn projection_with_nested_paths() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(
        c,
        &item(&[
            ("pk", s("p")),
            (
                "a",
                m(&[("b", m(&[("c", n(1)), ("d", n(2))])), ("e", n(3))]),
            ),
            ("l", l(vec![n(10), n(20), m(&[("x", n(1)), ("y", n(2))])])),
            ("other", s("not projected")),
            ("status", s("reserved word")),
        ]),
    )
    .await;
    let out = ok(c
        .get_item()
        .table_name(T)
        .set_key(Some(key("p")))
        .projection_expression("a.b.c, l[1], l[2].x, #o.nothere, #st, nope, l[7]")
        .expression_attribute_names("#o", "other")
        .expression_attribute_names("#st", "status")
        .send()
        .await);
    assert_eq!(
        out.item(),
        Some(&item(&[
            ("a", m(&[("b", m(&[("c", n(1))]))])),
            ("l", l(vec![n(20), m(&[("x", n(1))])])),
            ("status", s("reserved word")),
        ]))
    );

    // The key is not included unless asked for.
    let out = ok(c
        .get_item()
        .table_name(T)
        .set_key(Some(key("p")))
        .projection_expression("#o")
        .expression_attribute_names("#o", "other")
        .send()
        .await);
    assert_eq!(out.item(), Some(&item(&[("other", s("not projected"))])));

    expect_error(
        c.get_item()
            .table_name(T)
            .set_key(Some(key("p")))
            .projection_expression("a, a.b")
            .send()
            .await,
        "ValidationException",
        "Invalid ProjectionExpression: Two document paths overlap with each other; must remove or \
         rewrite one of these paths; path one: [a], path two: [a, b]",
    );
    expect_error(
        c.get_item()
            .table_name(T)
            .set_key(Some(key("p")))
            .projection_expression("status")
            .send()
            .await,
        "ValidationException",
        "Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: status",
    );
}

/// An item whose DynamoDB size (attribute names + UTF-8 values) is exactly
/// `total` bytes.
fn item_of_size(pk: &str, total: usize) -> Item {
    let fixed = "pk".len() + pk.len() + "data".len();
    item(&[("pk", s(pk)), ("data", s("x".repeat(total - fixed)))])
}

#[tokio::test]
async fn consumed_capacity_for_a_3_5_kb_item() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let it = item_of_size("cap", 3584);
    let out = ok(c
        .put_item()
        .table_name(T)
        .set_item(Some(it))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    let cc = out.consumed_capacity().expect("ConsumedCapacity");
    assert_eq!(cc.table_name(), Some(T));
    assert_eq!(cc.capacity_units(), Some(4.0), "3.5 KB written = 4 WCU");

    let read = |consistent: bool| {
        c.get_item()
            .table_name(T)
            .set_key(Some(key("cap")))
            .consistent_read(consistent)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
    };
    let strong = ok(read(true).await);
    let cc = strong.consumed_capacity().expect("ConsumedCapacity");
    assert_eq!(cc.table_name(), Some(T));
    assert_eq!(
        cc.capacity_units(),
        Some(1.0),
        "strongly consistent 3.5 KB = 1 RCU"
    );
    let eventual = ok(read(false).await);
    assert_eq!(
        eventual
            .consumed_capacity()
            .and_then(|cc| cc.capacity_units()),
        Some(0.5),
        "eventually consistent 3.5 KB = 0.5 RCU"
    );

    // Nothing is reported unless asked for.
    let out = ok(c
        .get_item()
        .table_name(T)
        .set_key(Some(key("cap")))
        .send()
        .await);
    assert_eq!(out.consumed_capacity(), None);

    // Writes are charged for the larger of the old and new item.
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key("cap")))
        .update_expression("REMOVE #d")
        .expression_attribute_names("#d", "data")
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    assert_eq!(
        out.consumed_capacity().and_then(|cc| cc.capacity_units()),
        Some(4.0)
    );
    let out = ok(c
        .delete_item()
        .table_name(T)
        .set_key(Some(key("cap")))
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    assert_eq!(
        out.consumed_capacity().and_then(|cc| cc.capacity_units()),
        Some(1.0)
    );
}

const MAX_ITEM: usize = 400 * 1024;

#[tokio::test]
async fn item_size_limit() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    // Exactly 400 KB is accepted.
    put(c, &item_of_size("max", MAX_ITEM)).await;
    assert_eq!(get(c, "max").await, Some(item_of_size("max", MAX_ITEM)));

    // One byte more is refused, and nothing is written.
    expect_error(
        c.put_item()
            .table_name(T)
            .set_item(Some(item_of_size("over", MAX_ITEM + 1)))
            .send()
            .await,
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
    );
    assert_eq!(get(c, "over").await, None);

    // Attribute names count towards the size.
    let long_name = "n".repeat(200);
    let it = item(&[
        ("pk", s("names")),
        (
            &long_name,
            s("x".repeat(MAX_ITEM - "pknames".len() - 200 + 1)),
        ),
    ]);
    expect_error(
        c.put_item().table_name(T).set_item(Some(it)).send().await,
        "ValidationException",
        "Item size has exceeded the maximum allowed size",
    );
    assert_eq!(get(c, "names").await, None);

    // An update that would grow the item past the limit changes nothing.
    put(c, &item_of_size("grow", MAX_ITEM - 100)).await;
    expect_error(
        c.update_item()
            .table_name(T)
            .set_key(Some(key("grow")))
            .update_expression("SET more = :m")
            .expression_attribute_values(":m", s("y".repeat(200)))
            .send()
            .await,
        "ValidationException",
        "Item size to update has exceeded the maximum allowed size",
    );
    assert_eq!(
        get(c, "grow").await,
        Some(item_of_size("grow", MAX_ITEM - 100))
    );
}

/// Runs an update that must fail with `code`/`message`, then checks the item
/// is exactly as before.
async fn update_fails_unchanged(
    c: &Client,
    expr: &str,
    values: &[(&str, AttributeValue)],
    code: &str,
    message: &str,
) {
    let before = get(c, "u").await;
    let values = if values.is_empty() {
        None
    } else {
        Some(item(values))
    };
    expect_error(
        c.update_item()
            .table_name(T)
            .set_key(Some(key("u")))
            .update_expression(expr)
            .set_expression_attribute_values(values)
            .send()
            .await,
        code,
        message,
    );
    assert_eq!(
        get(c, "u").await,
        before,
        "failed update `{expr}` wrote something"
    );
}

#[tokio::test]
async fn failed_updates_write_nothing() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(c, &base_item()).await;
    let v = "ValidationException";
    let wrong_type = "An operand in the update expression has an incorrect data type";
    update_fails_unchanged(c, "SET n = keep + :one", &[(":one", n(1))], v, wrong_type).await;
    // The first action would succeed; the second fails, so neither applies.
    update_fails_unchanged(
        c,
        "SET a = :v, b = keep + :one",
        &[(":v", s("x")), (":one", n(1))],
        v,
        wrong_type,
    )
    .await;
    update_fails_unchanged(
        c,
        "SET x = list_append(keep, :l)",
        &[(":l", l(vec![]))],
        v,
        wrong_type,
    )
    .await;
    update_fails_unchanged(c, "ADD ss :n", &[(":n", n(1))], v, wrong_type).await;
    update_fails_unchanged(
        c,
        "DELETE keep :strs",
        &[(":strs", ss(&["same"]))],
        v,
        wrong_type,
    )
    .await;
    update_fails_unchanged(
        c,
        "SET a = absent_attr + :one",
        &[(":one", n(1))],
        v,
        "The provided expression refers to an attribute that does not exist in the item",
    )
    .await;
    update_fails_unchanged(
        c,
        "SET nope.x = :v",
        &[(":v", s("x"))],
        v,
        "The document path provided in the update expression is invalid for update",
    )
    .await;
    update_fails_unchanged(
        c,
        "ADD n :v",
        &[(":v", s("x"))],
        v,
        "Invalid UpdateExpression: Incorrect operand type for operator or function; \
         operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND",
    )
    .await;
    update_fails_unchanged(
        c,
        "SET pk = :v",
        &[(":v", s("other"))],
        v,
        "One or more parameter values were invalid: Cannot update attribute pk. \
         This attribute is part of the key",
    )
    .await;
    update_fails_unchanged(
        c,
        "SET a = :missing",
        &[(":v", s("x"))],
        v,
        "Invalid UpdateExpression: An expression attribute value used in expression is not \
         defined; attribute value: :missing",
    )
    .await;
    update_fails_unchanged(
        c,
        "SET a = :v",
        &[(":v", s("x")), (":unused", s("y"))],
        v,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}",
    )
    .await;
    update_fails_unchanged(
        c,
        "ADD hits : incr",
        &[(":incr", n(1))],
        v,
        "Invalid UpdateExpression: Syntax error; token: \":\", near: \"hits : incr\"",
    )
    .await;
    update_fails_unchanged(
        c,
        "SET a = :v REMOVE a",
        &[(":v", n(1))],
        v,
        "Invalid UpdateExpression: Two document paths overlap with each other; must remove or \
         rewrite one of these paths; path one: [a], path two: [a]",
    )
    .await;
    update_fails_unchanged(
        c,
        "SET #name = :v",
        &[(":v", n(1))],
        v,
        "Invalid UpdateExpression: An expression attribute name used in the document path is not \
         defined; attribute name: #name",
    )
    .await;

    // A failed condition writes nothing either.
    let before = get(c, "u").await;
    expect_error(
        c.update_item()
            .table_name(T)
            .set_key(Some(key("u")))
            .update_expression("SET n = :zero REMOVE keep")
            .condition_expression("n > :big")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":big", n(1000))
            .send()
            .await,
        CCF,
        CCF_TEXT,
    );
    assert_eq!(get(c, "u").await, before);
    expect_error(
        c.put_item()
            .table_name(T)
            .set_item(Some(key("u")))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await,
        CCF,
        CCF_TEXT,
    );
    assert_eq!(get(c, "u").await, before);
}

#[tokio::test]
async fn key_validation() {
    let nimbus = start().await;
    let c = &nimbus.client;
    range_table(c, "kvt", ScalarAttributeType::N).await;
    let v = "ValidationException";
    expect_error(
        c.put_item()
            .table_name("kvt")
            .set_item(Some(item(&[("pk", s("a")), ("x", s("no sk"))])))
            .send()
            .await,
        v,
        "One or more parameter values were invalid: Missing the key sk in the item",
    );
    expect_error(
        c.put_item()
            .table_name("kvt")
            .set_item(Some(item(&[("pk", n(1)), ("sk", n(1))])))
            .send()
            .await,
        v,
        "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
    );
    expect_error(
        c.put_item()
            .table_name("kvt")
            .set_item(Some(item(&[("pk", s("")), ("sk", n(1))])))
            .send()
            .await,
        v,
        "One or more parameter values are not valid. The AttributeValue for a key attribute \
         cannot contain an empty string value. Key: pk",
    );
    expect_error(
        c.get_item()
            .table_name("kvt")
            .set_key(Some(item(&[("pk", s("a"))])))
            .send()
            .await,
        v,
        "The provided key element does not match the schema",
    );
    expect_error(
        c.get_item()
            .table_name("kvt")
            .set_key(Some(item(&[("pk", s("a")), ("sk", s("1"))])))
            .send()
            .await,
        v,
        "The provided key element does not match the schema",
    );
    expect_error(
        c.delete_item()
            .table_name("kvt")
            .set_key(Some(item(&[("pk", s("a")), ("sk", n(1)), ("extra", n(1))])))
            .send()
            .await,
        v,
        "The provided key element does not match the schema",
    );
    let scan = ok(c.scan().table_name("kvt").send().await);
    assert_eq!(scan.count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writers_are_atomic() {
    let nimbus = setup().await;
    let c = &nimbus.client;

    // 16 clients race to create the same item: exactly one wins.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let c = c.clone();
        tasks.spawn(async move {
            c.put_item()
                .table_name(T)
                .set_item(Some(item(&[("pk", s("race")), ("winner", n(i))])))
                .condition_expression("attribute_not_exists(pk)")
                .send()
                .await
                .map(|_| i)
                .map_err(|e| describe(&e))
        });
    }
    let mut winners = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done.unwrap() {
            Ok(i) => winners.push(i),
            Err(e) => assert_eq!(e, format!("{CCF}: {CCF_TEXT}")),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(
        get(c, "race").await,
        Some(item(&[("pk", s("race")), ("winner", n(winners[0]))]))
    );

    // 16 clients each add 1 to a counter 25 times: no increment is lost.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let c = c.clone();
        tasks.spawn(async move {
            for _ in 0..25 {
                ok(c.update_item()
                    .table_name(T)
                    .set_key(Some(key("hits")))
                    .update_expression("ADD hits :one, seen :me")
                    .expression_attribute_values(":one", n(1))
                    .expression_attribute_values(":me", ss(&["x"]))
                    .send()
                    .await);
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    assert_eq!(
        get(c, "hits").await,
        Some(item(&[
            ("pk", s("hits")),
            ("hits", n(400)),
            ("seen", ss(&["x"]))
        ]))
    );
}

#[tokio::test]
async fn numbers_are_normalized_and_bounded() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let cases = [
        ("1.50", "1.5"),
        ("0100", "100"),
        ("1E+2", "100"),
        ("-0", "0"),
        ("0.000", "0"),
        ("1e-5", "0.00001"),
        ("+7", "7"),
    ];
    for (given, stored) in cases {
        put(c, &item(&[("pk", s("num")), ("v", n(given))])).await;
        assert_eq!(
            get(c, "num").await.and_then(|it| it.get("v").cloned()),
            Some(n(stored)),
            "{given}"
        );
    }
    let limits = [
        (
            "123456789012345678901234567890123456789",
            "Attempting to store more than 38 significant digits in a Number",
        ),
        (
            "1e126",
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ),
        (
            "1e-131",
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ),
    ];
    for (value, message) in limits {
        expect_error(
            c.put_item()
                .table_name(T)
                .set_item(Some(item(&[("pk", s("bad-num")), ("v", n(value))])))
                .send()
                .await,
            "ValidationException",
            message,
        );
    }
    assert_eq!(get(c, "bad-num").await, None);
}
