//! SQS queue tags through the official AWS SDK for Rust against a live
//! `nimbus serve`: tags on CreateQueue, TagQueue / UntagQueue /
//! ListQueueTags, AWS's limits (50 tags, keys 1 to 128 characters, values up
//! to 256) with exact errors, and tags surviving a restart.

mod common;
mod sqs_util;

use std::collections::HashMap;

use sqs_util::*;

fn tags(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[tokio::test]
async fn tag_untag_list() {
    let n = start();
    let c = &n.client;
    let url = ok(c
        .create_queue()
        .queue_name("tagged")
        .tags("team", "core")
        .tags("env", "dev")
        .send()
        .await)
    .queue_url
    .unwrap();
    let listed = ok(c.list_queue_tags().queue_url(&url).send().await);
    assert_eq!(
        listed.tags(),
        Some(&tags(&[("team", "core"), ("env", "dev")]))
    );

    ok(c.tag_queue()
        .queue_url(&url)
        .tags("env", "prod")
        .tags("cost-center", "")
        .send()
        .await);
    let listed = ok(c.list_queue_tags().queue_url(&url).send().await);
    assert_eq!(
        listed.tags(),
        Some(&tags(&[
            ("team", "core"),
            ("env", "prod"),
            ("cost-center", "")
        ]))
    );
    ok(c.untag_queue()
        .queue_url(&url)
        .tag_keys("env")
        .tag_keys("not-there")
        .send()
        .await);
    let listed = ok(c.list_queue_tags().queue_url(&url).send().await);
    assert_eq!(
        listed.tags(),
        Some(&tags(&[("team", "core"), ("cost-center", "")]))
    );
    ok(c.untag_queue()
        .queue_url(&url)
        .tag_keys("team")
        .tag_keys("cost-center")
        .send()
        .await);
    assert_eq!(
        ok(c.list_queue_tags().queue_url(&url).send().await).tags(),
        None
    );
}

#[tokio::test]
async fn tag_limits_and_errors() {
    let n = start();
    let c = &n.client;
    let url = create(c, "limits", &[]).await;
    let mut req = c.tag_queue().queue_url(&url);
    for i in 0..50 {
        req = req.tags(format!("k{i:02}"), "v");
    }
    ok(req.send().await);
    expect_error(
        c.tag_queue()
            .queue_url(&url)
            .tags("one-more", "v")
            .send()
            .await,
        "InvalidParameterValue",
        "Too many tags added for queue limits.",
    );
    // Replacing an existing key does not add one.
    ok(c.tag_queue().queue_url(&url).tags("k00", "w").send().await);
    let listed = ok(c.list_queue_tags().queue_url(&url).send().await);
    assert_eq!(listed.tags().unwrap().len(), 50);
    assert_eq!(listed.tags().unwrap()["k00"], "w");

    expect_error(
        c.tag_queue()
            .queue_url(&url)
            .tags("k".repeat(129), "v")
            .send()
            .await,
        "InvalidParameterValue",
        "Tag keys must be between 1 and 128 characters in length.",
    );
    expect_error(
        c.tag_queue()
            .queue_url(&url)
            .tags("k00", "v".repeat(257))
            .send()
            .await,
        "InvalidParameterValue",
        "Tag values must be between 0 and 256 characters in length.",
    );
    expect_error(
        c.tag_queue().queue_url(&url).send().await,
        "MissingParameter",
        "The request must contain the parameter Tags.",
    );
    expect_error(
        c.untag_queue().queue_url(&url).send().await,
        "MissingParameter",
        "The request must contain the parameter TagKeys.",
    );
    expect_error(
        c.untag_queue().queue_url(&url).tag_keys("").send().await,
        "InvalidParameterValue",
        "Tag keys must be between 1 and 128 characters in length.",
    );
    let missing = format!("{}/{ACCOUNT}/missing", n.server.endpoint);
    expect_error(
        c.list_queue_tags().queue_url(&missing).send().await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );
    expect_error(
        c.tag_queue()
            .queue_url(&missing)
            .tags("a", "b")
            .send()
            .await,
        "AWS.SimpleQueueService.NonExistentQueue",
        "The specified queue does not exist.",
    );

    let mut create_req = c.create_queue().queue_name("too-many");
    for i in 0..51 {
        create_req = create_req.tags(format!("k{i}"), "v");
    }
    expect_error(
        create_req.send().await,
        "InvalidParameterValue",
        "Too many tags added for queue too-many.",
    );
    expect_error(
        c.create_queue()
            .queue_name("bad-tag")
            .tags("", "v")
            .send()
            .await,
        "InvalidParameterValue",
        "Tag keys must be between 1 and 128 characters in length.",
    );
    let urls = ok(c.list_queues().send().await)
        .queue_urls
        .unwrap_or_default();
    assert_eq!(urls, [url]);
}

#[tokio::test]
async fn tags_survive_a_restart() {
    let (_dir, data) = common::temp_data_dir();
    let data_arg = common::arg(&data).to_owned();
    let mut server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let url = create(&c, "kept", &[]).await;
    ok(c.tag_queue().queue_url(&url).tags("a", "1").send().await);
    server.kill();
    let server = common::Server::start(&["--data-dir", &data_arg]);
    let c = client(&server.endpoint);
    let url = format!("{}/{ACCOUNT}/kept", server.endpoint);
    assert_eq!(
        ok(c.list_queue_tags().queue_url(&url).send().await).tags(),
        Some(&tags(&[("a", "1")]))
    );
}
