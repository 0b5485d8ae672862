//! DynamoDB's legacy parameters through the official AWS SDK for Rust
//! against a live `nimbus serve`: a Query selecting with KeyConditions and
//! filtering with QueryFilter, and an UpdateItem changing the item with
//! AttributeUpdates under an Expected condition.

mod common;
mod sdk;

use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeValueUpdate, ComparisonOperator, Condition, ExpectedAttributeValue,
    ReturnValue, ScalarAttributeType,
};
use sdk::*;

const T: &str = "legacy";

fn condition(
    op: ComparisonOperator,
    values: Vec<aws_sdk_dynamodb::types::AttributeValue>,
) -> Condition {
    Condition::builder()
        .comparison_operator(op)
        .set_attribute_value_list(Some(values))
        .build()
        .expect("condition")
}

fn update(
    action: AttributeAction,
    value: aws_sdk_dynamodb::types::AttributeValue,
) -> AttributeValueUpdate {
    AttributeValueUpdate::builder()
        .action(action)
        .value(value)
        .build()
}

#[tokio::test]
async fn query_with_key_conditions_and_query_filter() {
    let nimbus = start().await;
    let c = &nimbus.client;
    range_table(c, T, ScalarAttributeType::N).await;
    for sk in 1..=8 {
        let kind = if sk % 2 == 0 { "even" } else { "odd" };
        ok(c.put_item()
            .table_name(T)
            .set_item(Some(item(&[
                ("pk", s("p")),
                ("sk", n(sk)),
                ("kind", s(kind)),
            ])))
            .send()
            .await);
    }
    ok(c.put_item()
        .table_name(T)
        .set_item(Some(item(&[
            ("pk", s("q")),
            ("sk", n(3)),
            ("kind", s("odd")),
        ])))
        .send()
        .await);

    let out = ok(c
        .query()
        .table_name(T)
        .key_conditions("pk", condition(ComparisonOperator::Eq, vec![s("p")]))
        .key_conditions(
            "sk",
            condition(ComparisonOperator::Between, vec![n(2), n(7)]),
        )
        .query_filter("kind", condition(ComparisonOperator::Eq, vec![s("odd")]))
        .attributes_to_get("sk")
        .scan_index_forward(false)
        .send()
        .await);
    let got: Vec<Item> = out.items().to_vec();
    assert_eq!(
        got,
        vec![
            item(&[("sk", n(7))]),
            item(&[("sk", n(5))]),
            item(&[("sk", n(3))])
        ]
    );
    assert_eq!((out.count(), out.scanned_count()), (3, 6));

    // A QueryFilter may not name a key attribute.
    expect_error(
        c.query()
            .table_name(T)
            .key_conditions("pk", condition(ComparisonOperator::Eq, vec![s("p")]))
            .query_filter("sk", condition(ComparisonOperator::Gt, vec![n(0)]))
            .send()
            .await,
        "ValidationException",
        "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk",
    );
    expect_error(
        c.query()
            .table_name(T)
            .key_conditions("pk", condition(ComparisonOperator::Eq, vec![s("p")]))
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .send()
            .await,
        "ValidationException",
        "Can not use both expression and non-expression parameters in the same request: \
         Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}",
    );
}

#[tokio::test]
async fn update_item_with_attribute_updates_and_expected() {
    let nimbus = start().await;
    let c = &nimbus.client;
    hash_table(c, T).await;
    let key = item(&[("pk", s("k"))]);
    ok(c.put_item()
        .table_name(T)
        .set_item(Some(item(&[
            ("pk", s("k")),
            ("version", n(1)),
            ("tags", ss(&["a", "b"])),
        ])))
        .send()
        .await);

    let expect_version = |v: i64| {
        ExpectedAttributeValue::builder()
            .comparison_operator(ComparisonOperator::Eq)
            .attribute_value_list(n(v))
            .build()
    };
    let out = ok(c
        .update_item()
        .table_name(T)
        .set_key(Some(key.clone()))
        .attribute_updates("version", update(AttributeAction::Add, n(1)))
        .attribute_updates("tags", update(AttributeAction::Delete, ss(&["a"])))
        .attribute_updates("title", update(AttributeAction::Put, s("hello")))
        .expected("version", expect_version(1))
        .expected(
            "title",
            ExpectedAttributeValue::builder().exists(false).build(),
        )
        .return_values(ReturnValue::AllNew)
        .send()
        .await);
    assert_item_eq(
        out.attributes().expect("ALL_NEW"),
        &item(&[
            ("pk", s("k")),
            ("version", n(2)),
            ("tags", ss(&["b"])),
            ("title", s("hello")),
        ]),
    );

    // The same update again: version is 2 now, so Expected fails and
    // nothing changes.
    expect_error(
        c.update_item()
            .table_name(T)
            .set_key(Some(key.clone()))
            .attribute_updates("version", update(AttributeAction::Add, n(1)))
            .expected("version", expect_version(1))
            .send()
            .await,
        "ConditionalCheckFailedException",
        "The conditional request failed",
    );
    // A type mismatch is refused with the legacy text, leaving the item.
    expect_error(
        c.update_item()
            .table_name(T)
            .set_key(Some(key.clone()))
            .attribute_updates("tags", update(AttributeAction::Add, ns(&["1"])))
            .send()
            .await,
        "ValidationException",
        "Type mismatch for attribute to update",
    );
    let now = ok(c
        .get_item()
        .table_name(T)
        .set_key(Some(key))
        .consistent_read(true)
        .send()
        .await);
    assert_eq!(now.item().and_then(|i| i.get("version")), Some(&n(2)));
}
