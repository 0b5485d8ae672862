//! SQS over the awsQuery protocol (AWS CLI v1, botocore before 1.31, older
//! SDKs): flattened form parameters in, XML out.
//!
//! Rather than a second set of handlers, a query request is rewritten into
//! the awsJson request object the handlers already take, and the handler's
//! JSON answer is rendered as the XML the query API documents. The two
//! protocols then cannot drift apart in behaviour or validation; only the
//! names below (from the SQS query API's `locationName`s) differ.
//!
//! Flattening, as the query protocol defines it for SQS:
//! - a list member `AttributeNames` is sent as `AttributeName.1`, `AttributeName.2`, ...
//! - a map member `Attributes` as `Attribute.1.Name` / `Attribute.1.Value`
//!   (`Tag.N.Key` / `Tag.N.Value` for tags);
//! - a list of structures `Entries` as `SendMessageBatchRequestEntry.N.<Member>`.

use std::collections::BTreeMap;

use nimbus_wire::query::{self, indexed, Node};
use nimbus_wire::xml::XmlWriter;
use nimbus_wire::RequestContext;
use serde_json::{Map, Value};

use crate::error::{Result, SqsError};
use crate::request::Object;

/// The XML namespace of every SQS query response.
pub const XMLNS: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// Every action of the SQS query API (API version 2012-11-05). A name outside
/// this list is `InvalidAction`; one inside it that nimbus lacks reaches the
/// handlers and is reported as unsupported there.
const ACTIONS: &[&str] = &[
    "AddPermission",
    "CancelMessageMoveTask",
    "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch",
    "CreateQueue",
    "DeleteMessage",
    "DeleteMessageBatch",
    "DeleteQueue",
    "GetQueueAttributes",
    "GetQueueUrl",
    "ListDeadLetterSourceQueues",
    "ListMessageMoveTasks",
    "ListQueueTags",
    "ListQueues",
    "PurgeQueue",
    "ReceiveMessage",
    "RemovePermission",
    "SendMessage",
    "SendMessageBatch",
    "SetQueueAttributes",
    "StartMessageMoveTask",
    "TagQueue",
    "UntagQueue",
];

/// Actions whose response has no `<ActionResult>` element (their output
/// shape is empty): only `ResponseMetadata` is sent.
const NO_RESULT: &[&str] = &[
    "AddPermission",
    "ChangeMessageVisibility",
    "DeleteMessage",
    "DeleteQueue",
    "PurgeQueue",
    "RemovePermission",
    "SetQueueAttributes",
    "TagQueue",
    "UntagQueue",
];

/// Actions that take no `QueueUrl`, so a queue path on the request does not
/// supply one.
const NO_QUEUE_URL: &[&str] = &["CreateQueue", "GetQueueUrl", "ListQueues"];

/// Members the handlers read as integers. Form values are all text; these are
/// converted when they are integers and otherwise passed on as text, which
/// the handler rejects as an invalid value for that parameter.
const INTEGER_MEMBERS: &[&str] = &[
    "DelaySeconds",
    "MaxNumberOfMessages",
    "MaxNumberOfMessagesPerSecond",
    "MaxResults",
    "VisibilityTimeout",
    "WaitTimeSeconds",
];

/// Flattened list members: the name on the wire and the awsJson member.
const LISTS: &[(&str, &str)] = &[
    ("AWSAccountId", "AWSAccountIds"),
    ("ActionName", "Actions"),
    ("AttributeName", "AttributeNames"),
    ("BinaryListValue", "BinaryListValues"),
    ("MessageAttributeName", "MessageAttributeNames"),
    ("MessageSystemAttributeName", "MessageSystemAttributeNames"),
    ("StringListValue", "StringListValues"),
    ("TagKey", "TagKeys"),
];

/// Flattened map members: wire name, awsJson member, key and value names.
const MAPS: &[(&str, &str, &str, &str)] = &[
    ("Attribute", "Attributes", "Name", "Value"),
    ("MessageAttribute", "MessageAttributes", "Name", "Value"),
    (
        "MessageSystemAttribute",
        "MessageSystemAttributes",
        "Name",
        "Value",
    ),
    ("Tag", "Tags", "Key", "Value"),
];

/// The query error for a name that is no SQS action.
pub fn invalid_action(action: &str) -> SqsError {
    SqsError {
        shape: "InvalidAction",
        query_code: "InvalidAction",
        message: format!("The action {action} is not valid for this endpoint."),
        sender_fault: true,
        status: 400,
    }
}

/// A query request without an `Action` parameter.
pub fn missing_action() -> SqsError {
    SqsError {
        shape: "MissingAction",
        query_code: "MissingAction",
        message: "The request must contain the parameter Action.".into(),
        sender_fault: true,
        status: 400,
    }
}

/// An error as the query API words it. One text differs between the
/// protocols: a missing queue is "The specified queue does not exist for
/// this wsdl version." over query (as localstack and local-aws, both checked
/// against AWS, answer it, and as older SDKs' error logs show it).
pub fn query_error(mut err: SqsError) -> SqsError {
    if err == SqsError::queue_does_not_exist() {
        err.message = "The specified queue does not exist for this wsdl version.".into();
    }
    err
}

/// A decoded query request: the action and its awsJson request object.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    pub action: String,
    pub request: Object,
}

/// Turns the form parameters of a query request into the action and its
/// awsJson request. `path` is the request path: a request sent to a queue's
/// URL (`POST /ACCOUNT/NAME`) names that queue when it has no `QueueUrl`.
pub fn parse_request(
    ctx: &RequestContext,
    path: &str,
    params: &[(String, String)],
) -> Result<QueryRequest> {
    let action = params
        .iter()
        .find(|(name, _)| name == "Action")
        .map(|(_, value)| value.clone())
        .ok_or_else(missing_action)?;
    if !ACTIONS.contains(&action.as_str()) {
        return Err(invalid_action(&action));
    }
    let mut request = object(query::group(params));
    // CreateQueue alone calls its tag map `tags` in the awsJson model.
    if action == "CreateQueue" {
        if let Some(tags) = request.remove("Tags") {
            request.insert("tags".into(), tags);
        }
    }
    if !NO_QUEUE_URL.contains(&action.as_str()) && !request.contains_key("QueueUrl") {
        if let Some((account, name)) = queue_path(path) {
            request.insert(
                "QueueUrl".into(),
                Value::String(crate::queue_url(ctx, account, name)),
            );
        }
    }
    Ok(QueryRequest { action, request })
}

/// `(account, name)` of a `/ACCOUNT/NAME` request path.
fn queue_path(path: &str) -> Option<(&str, &str)> {
    let mut segments = path.trim_matches('/').split('/');
    let account = segments.next().filter(|s| !s.is_empty())?;
    let name = segments.next().filter(|s| !s.is_empty())?;
    segments.next().is_none().then_some((account, name))
}

fn object(members: BTreeMap<String, Node>) -> Object {
    let mut out = Object::new();
    for (name, node) in members {
        if let Some(&(_, json_name)) = LISTS.iter().find(|(wire, _)| *wire == name) {
            out.insert(json_name.into(), list(node));
        } else if let Some(&(_, json_name, key, value)) =
            MAPS.iter().find(|(wire, ..)| *wire == name)
        {
            out.insert(json_name.into(), map(node, key, value));
        } else if name.ends_with("BatchRequestEntry") {
            out.insert("Entries".into(), entries(node));
        } else if matches!(&node, Node::Leaf(text) if text.is_empty()) && is_collection(&name) {
            // Clients send an empty list or map under its awsJson member
            // name with no value (`Entries=`), as the flattened names need
            // an index.
            let empty = if MAPS.iter().any(|(_, json_name, ..)| *json_name == name) {
                Value::Object(Map::new())
            } else {
                Value::Array(Vec::new())
            };
            out.insert(name, empty);
        } else {
            out.insert(name.clone(), scalar_or_object(&name, node));
        }
    }
    out
}

/// Whether `name` is the awsJson name of a list or map member.
fn is_collection(name: &str) -> bool {
    name == "Entries"
        || LISTS.iter().any(|(_, json_name)| *json_name == name)
        || MAPS.iter().any(|(_, json_name, ..)| *json_name == name)
}

fn scalar_or_object(name: &str, node: Node) -> Value {
    match node {
        Node::Leaf(text) if INTEGER_MEMBERS.contains(&name) => match text.parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::String(text),
        },
        Node::Leaf(text) => Value::String(text),
        Node::Branch(members) => Value::Object(object(members)),
    }
}

fn list(node: Node) -> Value {
    match node {
        Node::Branch(children) => Value::Array(
            indexed(children)
                .into_iter()
                .map(|item| match item {
                    Node::Leaf(text) => Value::String(text),
                    Node::Branch(members) => Value::Object(object(members)),
                })
                .collect(),
        ),
        // `AttributeName=All` without an index: one member.
        Node::Leaf(text) => Value::Array(vec![Value::String(text)]),
    }
}

/// A flattened map: entries without a key are not entries and are skipped;
/// an entry without a value maps to an empty one, which the handler judges.
fn map(node: Node, key_name: &str, value_name: &str) -> Value {
    let Node::Branch(children) = node else {
        return Value::Object(Map::new());
    };
    let mut out = Map::new();
    for entry in indexed(children) {
        let Node::Branch(mut fields) = entry else {
            continue;
        };
        let Some(Node::Leaf(key)) = fields.remove(key_name) else {
            continue;
        };
        let value = match fields.remove(value_name) {
            Some(Node::Leaf(text)) => Value::String(text),
            Some(Node::Branch(members)) => Value::Object(object(members)),
            None => Value::String(String::new()),
        };
        out.insert(key, value);
    }
    Value::Object(out)
}

fn entries(node: Node) -> Value {
    let Node::Branch(children) = node else {
        return Value::Array(Vec::new());
    };
    Value::Array(
        indexed(children)
            .into_iter()
            .filter_map(|entry| match entry {
                Node::Branch(members) => Some(Value::Object(object(members))),
                Node::Leaf(_) => None,
            })
            .collect(),
    )
}

/// The XML response for `action` whose handler answered `output`.
pub fn render_response(action: &str, output: &Value, request_id: &str) -> String {
    let mut w = XmlWriter::new();
    let response = format!("{action}Response");
    w.open(&response, Some(XMLNS));
    if !NO_RESULT.contains(&action) {
        let result = format!("{action}Result");
        w.open(&result, None);
        if let Value::Object(members) = output {
            write_members(&mut w, action, members);
        }
        w.close(&result);
    }
    w.open("ResponseMetadata", None);
    w.element("RequestId", request_id);
    w.close("ResponseMetadata");
    w.close(&response);
    w.finish()
}

fn write_members(w: &mut XmlWriter, action: &str, members: &Map<String, Value>) {
    for (name, value) in members {
        match value {
            Value::Null => {}
            Value::Array(items) => {
                let element = list_element(action, name);
                for item in items {
                    write_value(w, action, &element, item);
                }
            }
            Value::Object(entries) => match map_names(name) {
                Some((element, key_name, value_name)) => {
                    for (key, value) in entries {
                        w.open(element, None);
                        w.element(key_name, key);
                        write_value(w, action, value_name, value);
                        w.close(element);
                    }
                }
                None => write_value(w, action, name, value),
            },
            scalar => write_value(w, action, name, scalar),
        }
    }
}

fn write_value(w: &mut XmlWriter, action: &str, element: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(text) => w.element(element, text),
        Value::Bool(b) => w.element(element, if *b { "true" } else { "false" }),
        Value::Number(n) => w.element(element, &n.to_string()),
        Value::Object(members) => {
            w.open(element, None);
            write_members(w, action, members);
            w.close(element);
        }
        // A list directly inside a list does not occur in SQS's shapes.
        Value::Array(items) => {
            for item in items {
                write_value(w, action, element, item);
            }
        }
    }
}

/// The element each item of a flattened list member is written as.
fn list_element(action: &str, member: &str) -> String {
    match member {
        "QueueUrls" | "queueUrls" => "QueueUrl".into(),
        "Messages" => "Message".into(),
        "Successful" => format!("{action}ResultEntry"),
        "Failed" => "BatchResultErrorEntry".into(),
        "Results" => format!("{action}ResultEntry"),
        "StringListValues" => "StringListValue".into(),
        "BinaryListValues" => "BinaryListValue".into(),
        other => other.into(),
    }
}

/// Element, key and value names of a flattened map member in a response.
fn map_names(member: &str) -> Option<(&'static str, &'static str, &'static str)> {
    match member {
        "Attributes" => Some(("Attribute", "Name", "Value")),
        "MessageAttributes" => Some(("MessageAttribute", "Name", "Value")),
        "Tags" => Some(("Tag", "Key", "Value")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn ctx() -> RequestContext {
        let mut ctx = RequestContext::local("us-east-1");
        ctx.host = Some("h:1".into());
        ctx
    }

    #[test]
    fn send_message_members_become_json() {
        let req = parse_request(
            &ctx(),
            "/",
            &params(&[
                ("Action", "SendMessage"),
                ("Version", "2012-11-05"),
                ("QueueUrl", "http://h:1/000000000000/q"),
                ("MessageBody", "hi"),
                ("DelaySeconds", "5"),
                ("MessageAttribute.2.Name", "b"),
                ("MessageAttribute.2.Value.DataType", "Binary"),
                ("MessageAttribute.2.Value.BinaryValue", "AAE="),
                ("MessageAttribute.1.Name", "a"),
                ("MessageAttribute.1.Value.DataType", "String"),
                ("MessageAttribute.1.Value.StringValue", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(req.action, "SendMessage");
        assert_eq!(
            Value::Object(req.request),
            json!({
                "QueueUrl": "http://h:1/000000000000/q",
                "MessageBody": "hi",
                "DelaySeconds": 5,
                "MessageAttributes": {
                    "a": {"DataType": "String", "StringValue": "x"},
                    "b": {"DataType": "Binary", "BinaryValue": "AAE="},
                }
            })
        );
    }

    #[test]
    fn lists_maps_and_entries_in_index_order() {
        let req = parse_request(
            &ctx(),
            "/000000000000/q",
            &params(&[
                ("Action", "SendMessageBatch"),
                ("SendMessageBatchRequestEntry.10.Id", "ten"),
                ("SendMessageBatchRequestEntry.10.MessageBody", "b10"),
                ("SendMessageBatchRequestEntry.2.Id", "two"),
                ("SendMessageBatchRequestEntry.2.MessageBody", "b2"),
                ("SendMessageBatchRequestEntry.2.DelaySeconds", "x"),
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(req.request),
            json!({
                "QueueUrl": "http://h:1/000000000000/q",
                "Entries": [
                    {"Id": "two", "MessageBody": "b2", "DelaySeconds": "x"},
                    {"Id": "ten", "MessageBody": "b10"},
                ]
            })
        );
        let req = parse_request(
            &ctx(),
            "/",
            &params(&[
                ("Action", "CreateQueue"),
                ("QueueName", "q"),
                ("Attribute.1.Name", "VisibilityTimeout"),
                ("Attribute.1.Value", "40"),
                ("Attribute.2.Value", "no name"),
                ("Tag.1.Key", "team"),
                ("Tag.1.Value", "a"),
            ]),
        )
        .unwrap();
        let empty = parse_request(
            &ctx(),
            "/",
            &params(&[
                ("Action", "DeleteMessageBatch"),
                ("QueueUrl", "u"),
                ("Entries", ""),
                ("Attributes", ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(empty.request),
            json!({"QueueUrl": "u", "Entries": [], "Attributes": {}})
        );
        assert_eq!(
            Value::Object(req.request),
            json!({
                "QueueName": "q",
                "Attributes": {"VisibilityTimeout": "40"},
                "tags": {"team": "a"},
            })
        );
        let req = parse_request(
            &ctx(),
            "/",
            &params(&[
                ("Action", "ReceiveMessage"),
                ("QueueUrl", "u"),
                ("AttributeName.2", "SentTimestamp"),
                ("AttributeName.1", "All"),
                ("MessageAttributeName.1", "All"),
                ("MaxNumberOfMessages", "10"),
            ]),
        )
        .unwrap();
        assert_eq!(
            Value::Object(req.request),
            json!({
                "QueueUrl": "u",
                "AttributeNames": ["All", "SentTimestamp"],
                "MessageAttributeNames": ["All"],
                "MaxNumberOfMessages": 10,
            })
        );
    }

    #[test]
    fn bad_actions_are_refused() {
        assert_eq!(
            parse_request(&ctx(), "/", &params(&[("QueueName", "q")])).unwrap_err(),
            missing_action()
        );
        let err = parse_request(&ctx(), "/", &params(&[("Action", "Frobnicate")])).unwrap_err();
        assert_eq!(err.query_code, "InvalidAction");
        assert_eq!(
            err.message,
            "The action Frobnicate is not valid for this endpoint."
        );
    }

    #[test]
    fn responses_render_as_query_xml() {
        let out = json!({
            "Messages": [{
                "MessageId": "m",
                "Body": "a<b & 'c'",
                "Attributes": {"SentTimestamp": "1"},
                "MessageAttributes": {"k": {"DataType": "String", "StringValue": "v"}},
            }]
        });
        assert_eq!(
            render_response("ReceiveMessage", &out, "rid"),
            format!(
                "<?xml version=\"1.0\"?><ReceiveMessageResponse xmlns=\"{XMLNS}\"><ReceiveMessageResult>\
<Message><Attribute><Name>SentTimestamp</Name><Value>1</Value></Attribute>\
<Body>a&lt;b &amp; &apos;c&apos;</Body>\
<MessageAttribute><Name>k</Name><Value><DataType>String</DataType><StringValue>v</StringValue></Value></MessageAttribute>\
<MessageId>m</MessageId></Message>\
</ReceiveMessageResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ReceiveMessageResponse>"
            )
        );
        let batch = json!({"Successful": [{"Id": "1"}], "Failed": [{"Id": "2", "SenderFault": true, "Code": "C", "Message": "M"}]});
        let xml = render_response("DeleteMessageBatch", &batch, "r");
        assert!(xml
            .contains("<DeleteMessageBatchResultEntry><Id>1</Id></DeleteMessageBatchResultEntry>"));
        assert!(xml.contains("<BatchResultErrorEntry><Code>C</Code><Id>2</Id><Message>M</Message><SenderFault>true</SenderFault></BatchResultErrorEntry>"));
        assert_eq!(
            render_response("DeleteQueue", &json!({}), "r"),
            format!("<?xml version=\"1.0\"?><DeleteQueueResponse xmlns=\"{XMLNS}\"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteQueueResponse>")
        );
        let urls = render_response(
            "ListDeadLetterSourceQueues",
            &json!({"queueUrls": ["a", "b"]}),
            "r",
        );
        assert!(urls.contains("<ListDeadLetterSourceQueuesResult><QueueUrl>a</QueueUrl><QueueUrl>b</QueueUrl></ListDeadLetterSourceQueuesResult>"));
    }
}
