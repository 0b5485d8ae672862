"""SQS queue tags through unmodified boto3: tags on CreateQueue, TagQueue,
UntagQueue, ListQueueTags and AWS's 50-tag limit.

Error texts: "Too many tags added for queue NAME." and "Tag keys must be
between 1 and 128 characters in length." are AWS's as moto's tests assert them;
the value length text is `# text not documented; assumed`.
"""

import uuid

from compat_util import aws_error


def test_tags_round_trip_and_limits(sqs):
    name = f"tags-{uuid.uuid4().hex[:12]}"
    url = sqs.create_queue(QueueName=name, tags={"team": "core"})["QueueUrl"]
    try:
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
        sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(49)})
        assert len(sqs.list_queue_tags(QueueUrl=url)["Tags"]) == 50
        with aws_error("InvalidParameterValue", f"Too many tags added for queue {name}."):
            sqs.tag_queue(QueueUrl=url, Tags={"extra": "v"})
        # text not documented; assumed
        with aws_error(
            "InvalidParameterValue", "Tag values must be between 0 and 256 characters in length."
        ):
            sqs.tag_queue(QueueUrl=url, Tags={"team": "x" * 257})
        with aws_error("InvalidParameterValue", "Tag keys must be between 1 and 128 characters in length."):
            sqs.untag_queue(QueueUrl=url, TagKeys=[""])
        sqs.untag_queue(QueueUrl=url, TagKeys=[f"k{i}" for i in range(49)])
        assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"team": "core"}
        sqs.untag_queue(QueueUrl=url, TagKeys=["team"])
        assert "Tags" not in sqs.list_queue_tags(QueueUrl=url)
    finally:
        sqs.delete_queue(QueueUrl=url)
