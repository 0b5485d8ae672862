//! PartiQL (ExecuteStatement, BatchExecuteStatement, ExecuteTransaction)
//! through the official AWS SDK for Rust against a live `nimbus serve`: the
//! SDK's typed errors (DuplicateItemException, TransactionCanceledException
//! with its reasons), pagination by NextToken, and per-statement batch
//! errors.

mod common;
mod sdk;

use aws_sdk_dynamodb::operation::execute_statement::ExecuteStatementError;
use aws_sdk_dynamodb::operation::execute_transaction::ExecuteTransactionError;
use aws_sdk_dynamodb::types::{
    BatchStatementErrorCodeEnum, BatchStatementRequest, ParameterizedStatement, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use sdk::*;

const SONGS: &str = "songs";

async fn statement(
    c: &Client,
    text: &str,
    params: Vec<aws_sdk_dynamodb::types::AttributeValue>,
) -> Vec<Item> {
    let mut req = c.execute_statement().statement(text);
    for p in params {
        req = req.parameters(p);
    }
    ok(req.send().await).items.unwrap_or_default()
}

#[tokio::test]
async fn statements_run_through_the_sdk() {
    let nimbus = start().await;
    let c = &nimbus.client;
    range_table(c, SONGS, ScalarAttributeType::N).await;

    for i in 0..5 {
        statement(
            c,
            "INSERT INTO songs VALUE {'pk': ?, 'sk': ?, 'tags': <<'a'>>}",
            vec![s("band"), n(i)],
        )
        .await;
    }
    let dup = c
        .execute_statement()
        .statement("INSERT INTO songs VALUE {'pk': 'band', 'sk': 0}")
        .send()
        .await;
    let err = expect_error(
        dup,
        "DuplicateItemException",
        "Duplicate primary key exists in table",
    );
    assert!(matches!(
        err,
        ExecuteStatementError::DuplicateItemException(_)
    ));

    // A Query-backed SELECT, paged by Limit and NextToken, newest first.
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = ok(c
            .execute_statement()
            .statement("SELECT sk FROM songs WHERE pk = ? AND sk >= 1 ORDER BY sk DESC")
            .parameters(s("band"))
            .limit(2)
            .set_next_token(token)
            .consistent_read(true)
            .send()
            .await);
        seen.extend(page.items().iter().map(|it| it["sk"].clone()));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, vec![n(4), n(3), n(2), n(1)]);

    let updated = statement(
        c,
        "UPDATE songs SET plays = 1 SET tags = set_add(tags, <<'b'>>) WHERE pk = 'band' AND sk = 0 RETURNING ALL NEW *",
        vec![],
    )
    .await;
    assert_eq!(
        normalized(&updated[0]["tags"]),
        normalized(&ss(&["a", "b"]))
    );
    assert_eq!(updated[0]["plays"], n(1));

    let missing = c
        .execute_statement()
        .statement("UPDATE songs SET plays = 2 WHERE pk = 'nobody' AND sk = 0")
        .send()
        .await;
    let err = expect_error(
        missing,
        "ConditionalCheckFailedException",
        "The conditional request failed",
    );
    assert!(matches!(
        err,
        ExecuteStatementError::ConditionalCheckFailedException(_)
    ));

    // A batch: each statement answers for itself.
    let batch = ok(c
        .batch_execute_statement()
        .statements(
            BatchStatementRequest::builder()
                .statement("DELETE FROM songs WHERE pk = 'band' AND sk = 4")
                .build()
                .unwrap(),
        )
        .statements(
            BatchStatementRequest::builder()
                .statement("INSERT INTO songs VALUE {'pk': 'band', 'sk': 3}")
                .build()
                .unwrap(),
        )
        .send()
        .await);
    let responses = batch.responses();
    assert!(responses[0].error().is_none());
    assert_eq!(
        responses[1].error().and_then(|e| e.code()),
        Some(&BatchStatementErrorCodeEnum::DuplicateItem)
    );

    // A transaction whose INSERT finds its key taken writes nothing.
    let tx = c
        .execute_transaction()
        .transact_statements(
            ParameterizedStatement::builder()
                .statement("UPDATE songs SET plays = 9 WHERE pk = 'band' AND sk = 1")
                .build()
                .unwrap(),
        )
        .transact_statements(
            ParameterizedStatement::builder()
                .statement("INSERT INTO songs VALUE {'pk': 'band', 'sk': 2}")
                .build()
                .unwrap(),
        )
        .send()
        .await;
    let err = expect_error(
        tx,
        "TransactionCanceledException",
        "Transaction cancelled, please refer cancellation reasons for specific reasons [None, DuplicateItem]",
    );
    let ExecuteTransactionError::TransactionCanceledException(e) = err else {
        panic!("not a cancellation: {err:?}");
    };
    let codes: Vec<_> = e
        .cancellation_reasons()
        .iter()
        .map(|r| r.code().unwrap_or_default().to_string())
        .collect();
    assert_eq!(codes, ["None", "DuplicateItem"]);
    let left = statement(
        c,
        "SELECT plays FROM songs WHERE pk = 'band' AND sk = 1",
        vec![],
    )
    .await;
    assert_eq!(left, vec![Item::new()]);

    let remaining = statement(c, "SELECT sk FROM songs", vec![]).await;
    assert_eq!(remaining.len(), 4);
}
