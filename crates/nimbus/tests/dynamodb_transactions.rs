//! DynamoDB transactions (TransactWriteItems, TransactGetItems) through the
//! official AWS SDK for Rust against a live `nimbus serve`: the four actions
//! across tables, all-or-nothing cancellation with its reasons, the
//! same-item rule, ClientRequestToken idempotency, snapshot reads, and
//! serializability of conflicting transactions run in parallel.

mod common;
mod sdk;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Get, Put, ReturnConsumedCapacity,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TransactGetItem, TransactWriteItem,
    Update,
};
use aws_sdk_dynamodb::Client;
use sdk::*;

const ACCOUNTS: &str = "accounts";
const LEDGER: &str = "ledger";
const CANCELLED: &str = "TransactionCanceledException";
const VALIDATION: &str = "ValidationException";
const CCF_TEXT: &str = "The conditional request failed";

async fn setup() -> Nimbus {
    let nimbus = start().await;
    hash_table(&nimbus.client, ACCOUNTS).await;
    range_table(&nimbus.client, LEDGER, ScalarAttributeType::N).await;
    nimbus
}

fn key(pk: &str) -> Item {
    item(&[("pk", s(pk))])
}

fn ledger_key(pk: &str, sk: i64) -> Item {
    item(&[("pk", s(pk)), ("sk", n(sk))])
}

async fn put(c: &Client, table: &str, it: Item) {
    ok(c.put_item()
        .table_name(table)
        .set_item(Some(it))
        .send()
        .await);
}

async fn get(c: &Client, table: &str, k: Item) -> Option<Item> {
    ok(c.get_item()
        .table_name(table)
        .set_key(Some(k))
        .consistent_read(true)
        .send()
        .await)
    .item
}

fn put_action(table: &str, it: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(table)
                .set_item(Some(it))
                .build()
                .unwrap(),
        )
        .build()
}

fn check_action(table: &str, k: Item, condition: &str) -> TransactWriteItem {
    TransactWriteItem::builder()
        .condition_check(
            ConditionCheck::builder()
                .table_name(table)
                .set_key(Some(k))
                .condition_expression(condition)
                .build()
                .unwrap(),
        )
        .build()
}

fn delete_action(table: &str, k: Item) -> TransactWriteItem {
    TransactWriteItem::builder()
        .delete(
            Delete::builder()
                .table_name(table)
                .set_key(Some(k))
                .build()
                .unwrap(),
        )
        .build()
}

fn add_action(pk: &str, attr: &str, amount: i64) -> TransactWriteItem {
    TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(ACCOUNTS)
                .set_key(Some(key(pk)))
                .update_expression("ADD #a :amt")
                .expression_attribute_names("#a", attr)
                .expression_attribute_values(":amt", n(amount))
                .build()
                .unwrap(),
        )
        .build()
}

/// `amount` leaves `from` (only if it has that much) and reaches `to`.
fn transfer(from: &str, to: &str, amount: u32) -> Vec<TransactWriteItem> {
    vec![
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(ACCOUNTS)
                    .set_key(Some(key(from)))
                    .update_expression("SET balance = balance - :amt")
                    .condition_expression("balance >= :amt")
                    .expression_attribute_values(":amt", n(amount))
                    .build()
                    .unwrap(),
            )
            .build(),
        add_action(to, "balance", amount as i64),
    ]
}

fn number(it: &Item, name: &str) -> i64 {
    match it.get(name) {
        Some(AttributeValue::N(v)) => v.parse().unwrap(),
        other => panic!("{name} is not a number: {other:?}"),
    }
}

/// The codes of a cancellation, in request order.
fn codes(err: &TransactWriteItemsError) -> Vec<String> {
    match err {
        TransactWriteItemsError::TransactionCanceledException(e) => e
            .cancellation_reasons()
            .iter()
            .map(|r| r.code().unwrap_or("").to_string())
            .collect(),
        other => panic!("not a cancellation: {other:?}"),
    }
}

#[tokio::test]
async fn all_four_actions_across_two_tables() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(c, ACCOUNTS, item(&[("pk", s("a")), ("balance", n(10))])).await;
    put(c, ACCOUNTS, item(&[("pk", s("b")), ("balance", n(1))])).await;
    put(
        c,
        ACCOUNTS,
        item(&[("pk", s("c")), ("open", boolean(true))]),
    )
    .await;

    let out = ok(c
        .transact_write_items()
        .transact_items(put_action(
            LEDGER,
            item(&[("pk", s("a")), ("sk", n(1)), ("note", s("deposit"))]),
        ))
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(ACCOUNTS)
                        .set_key(Some(key("a")))
                        .update_expression("SET balance = balance + :x, #t = :t")
                        .condition_expression("attribute_exists(pk)")
                        .expression_attribute_names("#t", "touched")
                        .expression_attribute_values(":x", n(5))
                        .expression_attribute_values(":t", boolean(true))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .delete(
                    Delete::builder()
                        .table_name(ACCOUNTS)
                        .set_key(Some(key("b")))
                        .condition_expression("balance = :one")
                        .expression_attribute_values(":one", n(1))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(
            TransactWriteItem::builder()
                .condition_check(
                    ConditionCheck::builder()
                        .table_name(ACCOUNTS)
                        .set_key(Some(key("c")))
                        .condition_expression("#o = :yes")
                        .expression_attribute_names("#o", "open")
                        .expression_attribute_values(":yes", boolean(true))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);

    // Transactional writes cost two write units per KB; reported per table
    // in the order the tables first appear.
    let consumed = out.consumed_capacity();
    assert_eq!(consumed.len(), 2, "{consumed:?}");
    assert_eq!(consumed[0].table_name(), Some(LEDGER));
    assert_eq!(consumed[0].capacity_units(), Some(2.0));
    assert_eq!(consumed[0].write_capacity_units(), Some(2.0));
    assert_eq!(consumed[1].table_name(), Some(ACCOUNTS));
    assert_eq!(consumed[1].capacity_units(), Some(6.0));

    assert_item_eq(
        &get(c, LEDGER, ledger_key("a", 1)).await.unwrap(),
        &item(&[("pk", s("a")), ("sk", n(1)), ("note", s("deposit"))]),
    );
    assert_item_eq(
        &get(c, ACCOUNTS, key("a")).await.unwrap(),
        &item(&[
            ("pk", s("a")),
            ("balance", n(15)),
            ("touched", boolean(true)),
        ]),
    );
    assert_eq!(get(c, ACCOUNTS, key("b")).await, None);
    assert_item_eq(
        &get(c, ACCOUNTS, key("c")).await.unwrap(),
        &item(&[("pk", s("c")), ("open", boolean(true))]),
    );

    // The table statistics follow transactional writes too.
    let desc = ok(c.describe_table().table_name(ACCOUNTS).send().await);
    assert_eq!(desc.table.unwrap().item_count, Some(2));
}

#[tokio::test]
async fn one_failed_condition_cancels_everything() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let a = item(&[("pk", s("a")), ("balance", n(5))]);
    put(c, ACCOUNTS, a.clone()).await;
    put(c, ACCOUNTS, item(&[("pk", s("d")), ("balance", n(1))])).await;

    let result = c
        .transact_write_items()
        .transact_items(put_action(
            ACCOUNTS,
            item(&[("pk", s("new")), ("balance", n(0))]),
        ))
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(ACCOUNTS)
                        .set_key(Some(key("a")))
                        .update_expression("SET balance = balance - :amt")
                        .condition_expression("balance >= :amt")
                        .expression_attribute_values(":amt", n(50))
                        .return_values_on_condition_check_failure(
                            ReturnValuesOnConditionCheckFailure::AllOld,
                        )
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .transact_items(check_action(
            ACCOUNTS,
            key("nobody"),
            "attribute_exists(pk)",
        ))
        .transact_items(delete_action(ACCOUNTS, key("d")))
        .transact_items(put_action(LEDGER, item(&[("pk", s("a")), ("sk", n(9))])))
        .send()
        .await;
    let err = expect_error(
        result,
        CANCELLED,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed, ConditionalCheckFailed, None, None]",
    );
    assert_eq!(
        codes(&err),
        [
            "None",
            "ConditionalCheckFailed",
            "ConditionalCheckFailed",
            "None",
            "None"
        ]
    );
    let TransactWriteItemsError::TransactionCanceledException(e) = &err else {
        unreachable!()
    };
    let reasons = e.cancellation_reasons();
    assert_eq!(reasons[0].message(), None);
    assert_eq!(reasons[0].item(), None);
    assert_eq!(reasons[1].message(), Some(CCF_TEXT));
    assert_item_eq(reasons[1].item().expect("ALL_OLD returns the item"), &a);
    assert_eq!(reasons[2].message(), Some(CCF_TEXT));
    assert_eq!(reasons[2].item(), None, "no ALL_OLD, no item");

    // Nothing was written.
    assert_eq!(get(c, ACCOUNTS, key("new")).await, None);
    assert_item_eq(&get(c, ACCOUNTS, key("a")).await.unwrap(), &a);
    assert!(get(c, ACCOUNTS, key("d")).await.is_some());
    assert_eq!(get(c, LEDGER, ledger_key("a", 9)).await, None);
    let desc = ok(c.describe_table().table_name(ACCOUNTS).send().await);
    assert_eq!(desc.table.unwrap().item_count, Some(2));
}

#[tokio::test]
async fn an_update_that_cannot_apply_cancels_with_a_validation_error() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(c, ACCOUNTS, item(&[("pk", s("a"))])).await;
    let result = c
        .transact_write_items()
        .transact_items(put_action(ACCOUNTS, item(&[("pk", s("b"))])))
        .transact_items(
            TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(ACCOUNTS)
                        .set_key(Some(key("a")))
                        .update_expression("SET balance = absent + :one")
                        .expression_attribute_values(":one", n(1))
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await;
    let err = expect_error(
        result,
        CANCELLED,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ValidationError]",
    );
    let TransactWriteItemsError::TransactionCanceledException(e) = &err else {
        unreachable!()
    };
    assert_eq!(
        e.cancellation_reasons()[1].message(),
        Some("The provided expression refers to an attribute that does not exist in the item")
    );
    assert_eq!(get(c, ACCOUNTS, key("b")).await, None);
}

#[tokio::test]
async fn the_same_item_twice_is_rejected_before_anything_runs() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let result = c
        .transact_write_items()
        .transact_items(check_action(ACCOUNTS, key("a"), "attribute_not_exists(pk)"))
        .transact_items(put_action(ACCOUNTS, item(&[("pk", s("a"))])))
        .send()
        .await;
    expect_error(
        result,
        VALIDATION,
        "Transaction request cannot include multiple operations on one item",
    );
    assert_eq!(get(c, ACCOUNTS, key("a")).await, None);

    // The same key in two tables is two items.
    ok(c.transact_write_items()
        .transact_items(put_action(ACCOUNTS, item(&[("pk", s("a"))])))
        .transact_items(put_action(LEDGER, item(&[("pk", s("a")), ("sk", n(1))])))
        .send()
        .await);

    let get_a = TransactGetItem::builder()
        .get(
            Get::builder()
                .table_name(ACCOUNTS)
                .set_key(Some(key("a")))
                .build()
                .unwrap(),
        )
        .build();
    let result = c
        .transact_get_items()
        .transact_items(get_a.clone())
        .transact_items(get_a)
        .send()
        .await;
    expect_error(
        result,
        VALIDATION,
        "Transaction request cannot include multiple operations on one item",
    );
}

#[tokio::test]
async fn invalid_actions_are_plain_validation_errors() {
    let nimbus = setup().await;
    let c = &nimbus.client;

    let two_in_one = TransactWriteItem::builder()
        .put(
            Put::builder()
                .table_name(ACCOUNTS)
                .set_item(Some(item(&[("pk", s("a"))])))
                .build()
                .unwrap(),
        )
        .delete(
            Delete::builder()
                .table_name(ACCOUNTS)
                .set_key(Some(key("b")))
                .build()
                .unwrap(),
        )
        .build();
    expect_error(
        c.transact_write_items()
            .transact_items(two_in_one)
            .send()
            .await,
        VALIDATION,
        "TransactItems can only contain one of Check, Put, Update or Delete",
    );

    let many: Vec<_> = (0..101)
        .map(|i| put_action(ACCOUNTS, item(&[("pk", s(format!("k{i}")))])))
        .collect();
    expect_error(
        c.transact_write_items()
            .set_transact_items(Some(many))
            .send()
            .await,
        VALIDATION,
        "1 validation error detected: Value '[...]' at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to 100",
    );

    expect_error(
        c.transact_write_items()
            .transact_items(put_action("missing", item(&[("pk", s("a"))])))
            .send()
            .await,
        "ResourceNotFoundException",
        "Requested resource not found",
    );

    expect_error(
        c.transact_write_items()
            .transact_items(put_action(ACCOUNTS, item(&[("pk", s("a"))])))
            .transact_items(delete_action(ACCOUNTS, item(&[("pk", n(1))])))
            .send()
            .await,
        VALIDATION,
        "The provided key element does not match the schema",
    );

    // Each action has its own substitutions, checked as its single-item
    // operation checks them.
    let unused = TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(ACCOUNTS)
                .set_key(Some(key("a")))
                .update_expression("SET x = :x")
                .expression_attribute_values(":x", n(1))
                .expression_attribute_values(":y", n(2))
                .build()
                .unwrap(),
        )
        .build();
    expect_error(
        c.transact_write_items().transact_items(unused).send().await,
        VALIDATION,
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:y}",
    );

    let key_update = TransactWriteItem::builder()
        .update(
            Update::builder()
                .table_name(ACCOUNTS)
                .set_key(Some(key("a")))
                .update_expression("SET pk = :x")
                .expression_attribute_values(":x", s("b"))
                .build()
                .unwrap(),
        )
        .build();
    expect_error(
        c.transact_write_items()
            .transact_items(key_update)
            .send()
            .await,
        VALIDATION,
        "One or more parameter values were invalid: Cannot update attribute pk. This attribute is part of the key",
    );
    assert_eq!(get(c, ACCOUNTS, key("a")).await, None);
}

#[tokio::test]
async fn client_request_token_replays_and_mismatches() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let send = |token: &'static str, amount: i64| {
        c.transact_write_items()
            .client_request_token(token)
            .transact_items(add_action("a", "count", amount))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
    };

    let first = ok(send("token-1", 1).await);
    assert_eq!(
        first.consumed_capacity()[0].write_capacity_units(),
        Some(2.0)
    );
    // The same request again within the window: success, applied once; the
    // replay reports what reading the item cost, not a write.
    let replay = ok(send("token-1", 1).await);
    let consumed = &replay.consumed_capacity()[0];
    assert_eq!(consumed.write_capacity_units(), None);
    assert!(consumed.read_capacity_units().is_some());
    assert_eq!(
        number(&get(c, ACCOUNTS, key("a")).await.unwrap(), "count"),
        1
    );

    // The same token for a different request.
    expect_error(
        send("token-1", 2).await,
        "IdempotentParameterMismatchException",
        "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.",
    );
    assert_eq!(
        number(&get(c, ACCOUNTS, key("a")).await.unwrap(), "count"),
        1
    );

    // Another token is another transaction.
    ok(send("token-2", 2).await);
    assert_eq!(
        number(&get(c, ACCOUNTS, key("a")).await.unwrap(), "count"),
        3
    );

    // A cancelled transaction does not bind its token: the retry runs.
    let guarded = || {
        c.transact_write_items()
            .client_request_token("token-3")
            .transact_items(check_action(ACCOUNTS, key("gate"), "attribute_exists(pk)"))
            .transact_items(add_action("a", "count", 10))
            .send()
    };
    let err = expect_error(
        guarded().await,
        CANCELLED,
        "Transaction cancelled, please refer cancellation reasons for specific reasons [ConditionalCheckFailed, None]",
    );
    assert_eq!(codes(&err), ["ConditionalCheckFailed", "None"]);
    put(c, ACCOUNTS, key("gate")).await;
    ok(guarded().await);
    ok(guarded().await);
    assert_eq!(
        number(&get(c, ACCOUNTS, key("a")).await.unwrap(), "count"),
        13
    );
}

#[tokio::test]
async fn client_request_token_survives_a_restart() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let send = |c: Client| async move {
        c.transact_write_items()
            .client_request_token("durable-token")
            .transact_items(add_action("a", "count", 1))
            .send()
            .await
    };
    {
        let server = common::Server::start(&["--data-dir", dir]);
        let c = client(&server.endpoint);
        hash_table(&c, ACCOUNTS).await;
        ok(send(c.clone()).await);
        // Dropping the server kills it (SIGKILL): the token must already be
        // durable, since the transaction was acknowledged.
    }
    let server = common::Server::start(&["--data-dir", dir]);
    let c = client(&server.endpoint);
    ok(send(c.clone()).await);
    assert_eq!(
        number(&get(&c, ACCOUNTS, key("a")).await.unwrap(), "count"),
        1
    );
}

#[tokio::test]
async fn transact_get_items_returns_items_in_request_order() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    put(
        c,
        ACCOUNTS,
        item(&[("pk", s("a")), ("balance", n(7)), ("name", s("Ann"))]),
    )
    .await;
    put(
        c,
        LEDGER,
        item(&[("pk", s("a")), ("sk", n(1)), ("note", s("x"))]),
    )
    .await;
    let get_item = |table: &str, k: Item| {
        TransactGetItem::builder()
            .get(
                Get::builder()
                    .table_name(table)
                    .set_key(Some(k))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let out = ok(c
        .transact_get_items()
        .transact_items(get_item(LEDGER, ledger_key("a", 1)))
        .transact_items(get_item(ACCOUNTS, key("missing")))
        .transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name(ACCOUNTS)
                        .set_key(Some(key("a")))
                        .projection_expression("#n, balance")
                        .expression_attribute_names("#n", "name")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await);
    let responses = out.responses();
    assert_eq!(responses.len(), 3);
    assert_item_eq(
        responses[0].item().unwrap(),
        &item(&[("pk", s("a")), ("sk", n(1)), ("note", s("x"))]),
    );
    assert_eq!(responses[1].item(), None);
    assert_item_eq(
        responses[2].item().unwrap(),
        &item(&[("name", s("Ann")), ("balance", n(7))]),
    );
    let consumed = out.consumed_capacity();
    assert_eq!(consumed.len(), 2);
    assert_eq!(consumed[0].table_name(), Some(LEDGER));
    assert_eq!(consumed[0].read_capacity_units(), Some(2.0));
    assert_eq!(consumed[1].table_name(), Some(ACCOUNTS));
    assert_eq!(consumed[1].read_capacity_units(), Some(4.0));
}

/// A tiny deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const PEOPLE: usize = 8;
const START: i64 = 100;

fn person(i: usize) -> String {
    format!("acct-{i}")
}

/// Every balance, read in one transaction.
async fn balances(c: &Client) -> Vec<i64> {
    let mut req = c.transact_get_items();
    for i in 0..PEOPLE {
        req = req.transact_items(
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name(ACCOUNTS)
                        .set_key(Some(key(&person(i))))
                        .build()
                        .unwrap(),
                )
                .build(),
        );
    }
    ok(req.send().await)
        .responses()
        .iter()
        .map(|r| number(r.item().expect("every account exists"), "balance"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_conflicting_transfers_serialize() {
    // Durable, so group commit batches concurrent transactions together.
    let server = common::Server::start(&[]);
    let c = client(&server.endpoint);
    hash_table(&c, ACCOUNTS).await;
    for i in 0..PEOPLE {
        put(
            &c,
            ACCOUNTS,
            item(&[("pk", s(person(i))), ("balance", n(START))]),
        )
        .await;
    }

    const TASKS: u64 = 16;
    const TRANSFERS: usize = 60;
    let applied = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));

    // A reader that keeps taking snapshots while transfers run: each one
    // must see money neither created nor destroyed.
    let reader = {
        let c = c.clone();
        let done = done.clone();
        tokio::spawn(async move {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) {
                let b = balances(&c).await;
                assert_eq!(b.iter().sum::<i64>(), START * PEOPLE as i64, "{b:?}");
                assert!(b.iter().all(|x| *x >= 0), "{b:?}");
                reads += 1;
            }
            reads
        })
    };

    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let c = c.clone();
        let (applied, refused) = (applied.clone(), refused.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (t + 1).wrapping_mul(0x1234_5678_9abc));
            for _ in 0..TRANSFERS {
                let from = (rng.next() % PEOPLE as u64) as usize;
                let to = (from + 1 + (rng.next() % (PEOPLE as u64 - 1)) as usize) % PEOPLE;
                let amount = 1 + (rng.next() % 80) as u32;
                let result = c
                    .transact_write_items()
                    .set_transact_items(Some(transfer(&person(from), &person(to), amount)))
                    .send()
                    .await;
                match result {
                    Ok(_) => applied.fetch_add(1, Ordering::Relaxed),
                    Err(e) => {
                        let e = e.into_service_error();
                        assert_eq!(codes(&e), ["ConditionalCheckFailed", "None"], "{e:?}");
                        refused.fetch_add(1, Ordering::Relaxed)
                    }
                };
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    done.store(true, Ordering::Relaxed);
    let reads = reader.await.unwrap();

    let b = balances(&c).await;
    assert_eq!(b.iter().sum::<i64>(), START * PEOPLE as i64, "{b:?}");
    assert!(b.iter().all(|x| *x >= 0), "{b:?}");
    let (applied, refused) = (
        applied.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
    );
    assert_eq!(applied + refused, TASKS * TRANSFERS as u64);
    assert!(applied > 0 && reads > 0, "applied {applied}, reads {reads}");
    eprintln!("{applied} transfers applied, {refused} refused, {reads} snapshot reads");
}

/// The 10-minute ClientRequestToken window is measured by nimbus's clock,
/// so a test can outlive it with `/_nimbus/clock/advance`.
#[tokio::test]
async fn client_request_token_window_follows_the_clock() {
    let nimbus = setup().await;
    let c = &nimbus.client;
    let send = |amount: i64| {
        c.transact_write_items()
            .client_request_token("window")
            .transact_items(add_action("w", "count", amount))
            .send()
    };
    ok(send(1).await);
    common::advance_clock(&nimbus.server.endpoint, 590).await;
    expect_error(
        send(2).await,
        "IdempotentParameterMismatchException",
        "DynamoDB rejected the request because you retried a request with a different payload but with an idempotent token that was already used.",
    );
    common::advance_clock(&nimbus.server.endpoint, 20).await;
    // Past the window: the token is free, and this is a new transaction.
    ok(send(2).await);
    assert_eq!(
        number(&get(c, ACCOUNTS, key("w")).await.unwrap(), "count"),
        3
    );
}
