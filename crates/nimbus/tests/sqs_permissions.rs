//! SQS queue policies, encryption attributes, QueueDeletedRecently and the
//! in-flight limit through the official AWS SDK for Rust against a live
//! `nimbus serve`: AddPermission / RemovePermission writing the `Policy`
//! attribute as AWS writes it, SetQueueAttributes Policy validation, the
//! SSE attributes, and the exact errors of each.

mod common;
mod sqs_util;

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{json, Value};
use sqs_util::*;

const ACCOUNT_A: &str = "111111111111";
const ACCOUNT_B: &str = "222222222222";

async fn policy(client: &aws_sdk_sqs::Client, url: &str) -> Option<String> {
    attrs(client, url).await.remove("Policy")
}

#[tokio::test]
async fn add_and_remove_permissions_write_the_policy() {
    let n = start();
    let c = &n.client;
    let url = create(c, "shared", &[]).await;
    let arn = arn("shared");
    assert_eq!(policy(c, &url).await, None);

    ok(c.add_permission()
        .queue_url(&url)
        .label("SendFromA")
        .aws_account_ids(ACCOUNT_A)
        .actions("SendMessage")
        .send()
        .await);
    let text = policy(c, &url).await.expect("a policy after AddPermission");
    assert_eq!(
        text,
        format!(
            r#"{{"Version":"2012-10-17","Id":"{arn}/SQSDefaultPolicy","Statement":[{{"Sid":"SendFromA","Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT_A}:root"}},"Action":"SQS:SendMessage","Resource":"{arn}"}}]}}"#
        )
    );

    ok(c.add_permission()
        .queue_url(&url)
        .label("ConsumeFromAB")
        .aws_account_ids(ACCOUNT_A)
        .aws_account_ids(ACCOUNT_B)
        .actions("ReceiveMessage")
        .actions("DeleteMessage")
        .send()
        .await);
    let doc: Value = serde_json::from_str(&policy(c, &url).await.unwrap()).unwrap();
    assert_eq!(
        doc["Statement"][1],
        json!({
            "Sid": "ConsumeFromAB",
            "Effect": "Allow",
            "Principal": {"AWS": [
                format!("arn:aws:iam::{ACCOUNT_A}:root"),
                format!("arn:aws:iam::{ACCOUNT_B}:root"),
            ]},
            "Action": ["SQS:ReceiveMessage", "SQS:DeleteMessage"],
            "Resource": arn,
        })
    );
    // The same grant again under its label changes nothing.
    ok(c.add_permission()
        .queue_url(&url)
        .label("SendFromA")
        .aws_account_ids(ACCOUNT_A)
        .actions("SendMessage")
        .send()
        .await);
    let doc: Value = serde_json::from_str(&policy(c, &url).await.unwrap()).unwrap();
    assert_eq!(doc["Statement"].as_array().unwrap().len(), 2);

    ok(c.remove_permission()
        .queue_url(&url)
        .label("SendFromA")
        .send()
        .await);
    let doc: Value = serde_json::from_str(&policy(c, &url).await.unwrap()).unwrap();
    assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
    assert_eq!(doc["Statement"][0]["Sid"], "ConsumeFromAB");
    // Removing the last statement removes the policy.
    ok(c.remove_permission()
        .queue_url(&url)
        .label("ConsumeFromAB")
        .send()
        .await);
    assert_eq!(policy(c, &url).await, None);
}

#[tokio::test]
async fn permission_errors() {
    let n = start();
    let c = &n.client;
    let url = create(c, "guarded", &[]).await;
    ok(c.add_permission()
        .queue_url(&url)
        .label("test")
        .aws_account_ids(ACCOUNT_A)
        .actions("ReceiveMessage")
        .send()
        .await);
    expect_error(
        c.add_permission()
            .queue_url(&url)
            .label("test")
            .aws_account_ids(ACCOUNT_A)
            .actions("ReceiveMessage")
            .actions("SendMessage")
            .send()
            .await,
        "InvalidParameterValue",
        "Value test for parameter Label is invalid. Reason: Already exists.",
    );
    expect_error(
        c.add_permission()
            .queue_url(&url)
            .label("test-2")
            .aws_account_ids(ACCOUNT_A)
            .actions("RemovePermission")
            .send()
            .await,
        "InvalidParameterValue",
        "Value SQS:RemovePermission for parameter ActionName is invalid. Reason: Only the queue owner is allowed to invoke this action.",
    );
    expect_error(
        c.add_permission()
            .queue_url(&url)
            .label("test-2")
            .aws_account_ids(ACCOUNT_A)
            .actions("Frobnicate")
            .send()
            .await,
        "InvalidParameterValue",
        "Value SQS:Frobnicate for parameter ActionName is invalid. Reason: Please refer to the appropriate WSDL for a list of valid actions.",
    );
    expect_error(
        c.add_permission()
            .queue_url(&url)
            .label("test-2")
            .aws_account_ids(ACCOUNT_A)
            .set_actions(Some(vec![]))
            .send()
            .await,
        "MissingParameter",
        "The request must contain the parameter Actions.",
    );
    expect_error(
        c.add_permission()
            .queue_url(&url)
            .label("test-2")
            .set_aws_account_ids(Some(vec![]))
            .actions("ReceiveMessage")
            .send()
            .await,
        "InvalidParameterValue",
        "Value [] for parameter PrincipalId is invalid. Reason: Unable to verify.",
    );
    let mut eight = c
        .add_permission()
        .queue_url(&url)
        .label("test-2")
        .aws_account_ids(ACCOUNT_A);
    for action in [
        "ChangeMessageVisibility",
        "DeleteMessage",
        "GetQueueAttributes",
        "GetQueueUrl",
        "ListDeadLetterSourceQueues",
        "PurgeQueue",
        "ReceiveMessage",
        "SendMessage",
    ] {
        eight = eight.actions(action);
    }
    expect_error_status(
        eight.send().await,
        "OverLimit",
        "8 Actions were found, maximum allowed is 7.",
        403,
    );
    expect_error(
        c.add_permission()
            .queue_url(&url)
            .label("bad label!")
            .aws_account_ids(ACCOUNT_A)
            .actions("SendMessage")
            .send()
            .await,
        "InvalidParameterValue",
        "Label can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length",
    );
    expect_error(
        c.remove_permission()
            .queue_url(&url)
            .label("nope")
            .send()
            .await,
        "InvalidParameterValue",
        "Value nope for parameter Label is invalid. Reason: can't find label on existing policy.",
    );
    // Twenty statements at most.
    for i in 2..=20 {
        ok(c.add_permission()
            .queue_url(&url)
            .label(format!("l{i}"))
            .aws_account_ids(ACCOUNT_A)
            .actions("SendMessage")
            .send()
            .await);
    }
    expect_error_status(
        c.add_permission()
            .queue_url(&url)
            .label("l21")
            .aws_account_ids(ACCOUNT_A)
            .actions("SendMessage")
            .send()
            .await,
        "OverLimit",
        "21 Statements were found, maximum allowed is 20.",
        403,
    );
    let missing = url.replace("guarded", "missing");
    expect_error(
        c.add_permission()
            .queue_url(&missing)
            .label("x")
            .aws_account_ids(ACCOUNT_A)
            .actions("SendMessage")
            .send()
            .await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );
}

#[tokio::test]
async fn policy_attribute_is_validated_and_kept_as_sent() {
    let n = start();
    let c = &n.client;
    let url = create(c, "policed", &[]).await;
    let arn = arn("policed");
    let mine = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"sns","Effect":"Allow","Principal":{{"Service":"sns.amazonaws.com"}},"Action":"sqs:SendMessage","Resource":"{arn}","Condition":{{"ArnEquals":{{"aws:SourceArn":"arn:aws:sns:us-east-1:000000000000:t"}}}}}}]}}"#
    );
    ok(c.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::Policy, &mine)
        .send()
        .await);
    assert_eq!(policy(c, &url).await.as_deref(), Some(mine.as_str()));
    // AddPermission appends to a policy the caller wrote.
    ok(c.add_permission()
        .queue_url(&url)
        .label("extra")
        .aws_account_ids(ACCOUNT_B)
        .actions("*")
        .send()
        .await);
    let doc: Value = serde_json::from_str(&policy(c, &url).await.unwrap()).unwrap();
    let sids: Vec<&str> = doc["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Sid"].as_str().unwrap())
        .collect();
    assert_eq!(sids, ["sns", "extra"]);
    assert_eq!(doc["Statement"][1]["Action"], "SQS:*");
    for bad in [
        "{not json",
        r#"{"Statement":[]}"#,
        r#"{"Statement":{"Effect":"Allow","Action":"sqs:*"}}"#,
    ] {
        expect_error(
            c.set_queue_attributes()
                .queue_url(&url)
                .attributes(QueueAttributeName::Policy, bad)
                .send()
                .await,
            "InvalidAttributeValue",
            "Invalid value for the parameter Policy.",
        );
    }
    // "" removes the policy.
    ok(c.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::Policy, "")
        .send()
        .await);
    assert_eq!(policy(c, &url).await, None);
}

#[tokio::test]
async fn encryption_attributes() {
    let n = start();
    let c = &n.client;
    let url = create(c, "sealed", &[]).await;
    let a = attrs(c, &url).await;
    assert_eq!(a["SqsManagedSseEnabled"], "true");
    assert!(!a.contains_key("KmsMasterKeyId"));
    assert!(!a.contains_key("KmsDataKeyReusePeriodSeconds"));

    let kms = create(
        c,
        "sealed-kms",
        &[
            ("KmsMasterKeyId", "alias/aws/sqs"),
            ("KmsDataKeyReusePeriodSeconds", "600"),
        ],
    )
    .await;
    let a = attrs(c, &kms).await;
    assert_eq!(a["SqsManagedSseEnabled"], "false");
    assert_eq!(a["KmsMasterKeyId"], "alias/aws/sqs");
    assert_eq!(a["KmsDataKeyReusePeriodSeconds"], "600");

    expect_error(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
            .attributes(QueueAttributeName::KmsMasterKeyId, "alias/aws/sqs")
            .send()
            .await,
        "InvalidAttributeName",
        "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.",
    );
    expect_error(
        c.set_queue_attributes()
            .queue_url(&url)
            .attributes(QueueAttributeName::KmsDataKeyReusePeriodSeconds, "59")
            .send()
            .await,
        "InvalidAttributeValue",
        "Invalid value for the parameter KmsDataKeyReusePeriodSeconds.",
    );
    ok(c.set_queue_attributes()
        .queue_url(&url)
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "false")
        .send()
        .await);
    assert_eq!(attrs(c, &url).await["SqsManagedSseEnabled"], "false");
}

#[tokio::test]
async fn a_deleted_name_is_held_for_sixty_seconds() {
    let n = start();
    let c = &n.client;
    let url = create(c, "phoenix", &[]).await;
    ok(c.delete_queue().queue_url(&url).send().await);
    expect_error(
        c.create_queue().queue_name("phoenix").send().await,
        "AWS.SimpleQueueService.QueueDeletedRecently",
        "You must wait 60 seconds after deleting a queue before you can create another with the same name.",
    );
    common::advance_clock(&n.server.endpoint, 59).await;
    assert!(c.create_queue().queue_name("phoenix").send().await.is_err());
    common::advance_clock(&n.server.endpoint, 1).await;
    assert_eq!(create(c, "phoenix", &[]).await, url);
}
