//! SNS's awsQuery protocol: form parameters in, XML out.
//!
//! Requests: SNS's model uses the query protocol's non-flattened shapes, so
//! a list member `Tags` arrives as `Tags.member.1.Key`, `Tags.member.1.Value`,
//! and a map member `Attributes` as `Attributes.entry.1.key` /
//! `Attributes.entry.1.value` (`MessageAttributes.entry.N.Name` /
//! `...Value.DataType` for message attributes, whose key and value carry
//! other names). The parameters are grouped by their dotted names and turned
//! into a JSON object: `member` lists become arrays and `entry` maps objects,
//! so the handlers read plain JSON members.
//!
//! Responses: the handler's JSON answer is written as
//! `<ActionResponse xmlns=...><ActionResult>...</ActionResult>
//! <ResponseMetadata><RequestId>...</RequestId></ResponseMetadata></ActionResponse>`,
//! arrays as `<member>` elements and the `Attributes` map as
//! `<entry><key>..</key><value>..</value></entry>`.

use std::collections::BTreeMap;

use nimbus_wire::query::{self, indexed, Node};
use nimbus_wire::xml::XmlWriter;
use serde_json::{Map, Value};

use crate::error::{Result, SnsError};

/// The XML namespace of every SNS response.
pub const XMLNS: &str = "http://sns.amazonaws.com/doc/2010-03-31/";

/// A request's members as JSON.
pub type Object = Map<String, Value>;

/// Every action of the SNS API (version 2010-03-31). A name outside this
/// list is `InvalidAction`; one inside it that nimbus lacks is refused as
/// unsupported by the dispatcher.
pub const ACTIONS: &[&str] = &[
    "AddPermission",
    "CheckIfPhoneNumberIsOptedOut",
    "ConfirmSubscription",
    "CreatePlatformApplication",
    "CreatePlatformEndpoint",
    "CreateSMSSandboxPhoneNumber",
    "CreateTopic",
    "DeleteEndpoint",
    "DeletePlatformApplication",
    "DeleteSMSSandboxPhoneNumber",
    "DeleteTopic",
    "GetDataProtectionPolicy",
    "GetEndpointAttributes",
    "GetPlatformApplicationAttributes",
    "GetSMSAttributes",
    "GetSMSSandboxAccountStatus",
    "GetSubscriptionAttributes",
    "GetTopicAttributes",
    "ListEndpointsByPlatformApplication",
    "ListOriginationNumbers",
    "ListPhoneNumbersOptedOut",
    "ListPlatformApplications",
    "ListSMSSandboxPhoneNumbers",
    "ListSubscriptions",
    "ListSubscriptionsByTopic",
    "ListTagsForResource",
    "ListTopics",
    "OptInPhoneNumber",
    "Publish",
    "PublishBatch",
    "PutDataProtectionPolicy",
    "RemovePermission",
    "SetEndpointAttributes",
    "SetPlatformApplicationAttributes",
    "SetSMSAttributes",
    "SetSubscriptionAttributes",
    "SetTopicAttributes",
    "Subscribe",
    "TagResource",
    "Unsubscribe",
    "UntagResource",
    "VerifySMSSandboxPhoneNumber",
];

/// Actions whose output shape is empty and has no result wrapper: only
/// `ResponseMetadata` is sent.
const NO_RESULT: &[&str] = &[
    "AddPermission",
    "DeleteTopic",
    "RemovePermission",
    "SetSubscriptionAttributes",
    "SetTopicAttributes",
    "Unsubscribe",
];

/// A decoded query request: its action and members.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRequest {
    pub action: String,
    pub members: Object,
}

/// Groups the form parameters of a request (query string first, then body)
/// into its action and members.
pub fn parse_request(params: &[(String, String)]) -> Result<QueryRequest> {
    let action = params
        .iter()
        .find(|(name, _)| name == "Action")
        .map(|(_, value)| value.clone())
        .ok_or_else(SnsError::missing_action)?;
    if !ACTIONS.contains(&action.as_str()) {
        return Err(SnsError::invalid_action(&action));
    }
    Ok(QueryRequest {
        action,
        members: object(query::group(params)),
    })
}

fn object(members: BTreeMap<String, Node>) -> Object {
    members
        .into_iter()
        .map(|(name, node)| (name, value(node)))
        .collect()
}

fn value(node: Node) -> Value {
    match node {
        Node::Leaf(text) => Value::String(text),
        Node::Branch(mut children) => {
            if children.len() == 1 {
                if let Some(Node::Branch(items)) = children.remove("member") {
                    return Value::Array(indexed(items).into_iter().map(value).collect());
                }
                if let Some(Node::Branch(entries)) = children.remove("entry") {
                    return Value::Object(map(entries));
                }
            }
            Value::Object(object(children))
        }
    }
}

/// A map's entries: the key is `key` (or `Name`, for message attributes),
/// the value `value` (or `Value`). Entries without a key are skipped.
fn map(entries: BTreeMap<String, Node>) -> Object {
    let mut out = Object::new();
    for entry in indexed(entries) {
        let Node::Branch(mut fields) = entry else {
            continue;
        };
        let key = match fields.remove("key").or_else(|| fields.remove("Name")) {
            Some(Node::Leaf(key)) => key,
            _ => continue,
        };
        let v = fields
            .remove("value")
            .or_else(|| fields.remove("Value"))
            .map(value)
            .unwrap_or(Value::Null);
        out.entry(key).or_insert(v);
    }
    out
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
            write_members(&mut w, members);
        }
        w.close(&result);
    }
    w.open("ResponseMetadata", None);
    w.element("RequestId", request_id);
    w.close("ResponseMetadata");
    w.close(&response);
    w.finish()
}

fn write_members(w: &mut XmlWriter, members: &Map<String, Value>) {
    for (name, value) in members {
        match (name.as_str(), value) {
            (_, Value::Null) => {}
            // SNS's only map in responses: string keys and string values.
            ("Attributes", Value::Object(entries)) => {
                w.open(name, None);
                for (key, v) in entries {
                    w.open("entry", None);
                    w.element("key", key);
                    write_value(w, "value", v);
                    w.close("entry");
                }
                w.close(name);
            }
            (_, Value::Array(items)) => {
                w.open(name, None);
                for item in items {
                    write_value(w, "member", item);
                }
                w.close(name);
            }
            (_, v) => write_value(w, name, v),
        }
    }
}

fn write_value(w: &mut XmlWriter, element: &str, value: &Value) {
    match value {
        Value::Null => {}
        Value::String(text) => w.element(element, text),
        Value::Bool(b) => w.element(element, if *b { "true" } else { "false" }),
        Value::Number(n) => w.element(element, &n.to_string()),
        Value::Object(members) => {
            w.open(element, None);
            write_members(w, members);
            w.close(element);
        }
        Value::Array(items) => {
            w.open(element, None);
            for item in items {
                write_value(w, "member", item);
            }
            w.close(element);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_wire::query::params;
    use serde_json::json;

    #[test]
    fn lists_and_maps_become_json() {
        let req = parse_request(&params(&[
            ("Action", "CreateTopic"),
            ("Version", "2010-03-31"),
            ("Name", "t"),
            ("Attributes.entry.2.key", "FifoTopic"),
            ("Attributes.entry.2.value", "true"),
            ("Attributes.entry.1.key", "DisplayName"),
            ("Attributes.entry.1.value", "x"),
            ("Tags.member.10.Key", "k10"),
            ("Tags.member.10.Value", "v10"),
            ("Tags.member.2.Key", "k2"),
            ("Tags.member.2.Value", "v2"),
        ]))
        .unwrap();
        assert_eq!(req.action, "CreateTopic");
        assert_eq!(
            Value::Object(req.members),
            json!({
                "Name": "t",
                "Attributes": {"DisplayName": "x", "FifoTopic": "true"},
                "Tags": [{"Key": "k2", "Value": "v2"}, {"Key": "k10", "Value": "v10"}],
            })
        );
    }

    #[test]
    fn message_attributes_and_batch_entries() {
        let req = parse_request(&params(&[
            ("Action", "PublishBatch"),
            ("TopicArn", "arn"),
            ("PublishBatchRequestEntries.member.1.Id", "a"),
            ("PublishBatchRequestEntries.member.1.Message", "m"),
            (
                "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Name",
                "n",
            ),
            (
                "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.DataType",
                "Binary",
            ),
            (
                "PublishBatchRequestEntries.member.1.MessageAttributes.entry.1.Value.BinaryValue",
                "AAE=",
            ),
            ("TagKeys.member.1", "x"),
        ]))
        .unwrap();
        assert_eq!(
            Value::Object(req.members),
            json!({
                "TopicArn": "arn",
                "PublishBatchRequestEntries": [{
                    "Id": "a",
                    "Message": "m",
                    "MessageAttributes": {"n": {"DataType": "Binary", "BinaryValue": "AAE="}},
                }],
                "TagKeys": ["x"],
            })
        );
    }

    #[test]
    fn bad_actions_are_refused() {
        assert_eq!(
            parse_request(&params(&[("Name", "t")])).unwrap_err(),
            SnsError::missing_action()
        );
        let err = parse_request(&params(&[("Action", "SendMessage")])).unwrap_err();
        assert_eq!(err.code, "InvalidAction");
        assert_eq!(
            err.message,
            "The action SendMessage is not valid for this endpoint."
        );
    }

    #[test]
    fn responses_render_as_query_xml() {
        let xml = render_response(
            "ListTopics",
            &json!({"Topics": [{"TopicArn": "a<b"}], "NextToken": "t"}),
            "rid",
        );
        assert_eq!(
            xml,
            format!(
                "<?xml version=\"1.0\"?><ListTopicsResponse xmlns=\"{XMLNS}\"><ListTopicsResult>\
<NextToken>t</NextToken><Topics><member><TopicArn>a&lt;b</TopicArn></member></Topics>\
</ListTopicsResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></ListTopicsResponse>"
            )
        );
        let attrs = render_response(
            "GetTopicAttributes",
            &json!({"Attributes": {"Owner": "1"}}),
            "r",
        );
        assert!(attrs
            .contains("<Attributes><entry><key>Owner</key><value>1</value></entry></Attributes>"));
        let empty = render_response("DeleteTopic", &json!({}), "r");
        assert!(!empty.contains("DeleteTopicResult"));
        let tagged = render_response("TagResource", &json!({}), "r");
        assert!(tagged.contains("<TagResourceResult></TagResourceResult>"));
    }
}
