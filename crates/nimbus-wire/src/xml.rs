//! XML framing for the awsQuery protocol: a small element writer with the
//! escaping XML requires, and the `<ErrorResponse>` every query service sends
//! for an error. Services decide element names; this module only writes them.

use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Response, StatusCode};

use crate::AwsError;

/// Content type of every awsQuery response.
pub const CONTENT_TYPE_XML: &str = "text/xml";

/// Builds an XML document element by element. Text and attribute values are
/// escaped on the way in, so a writer's output is always well formed as long
/// as each `open` is matched by a `close`.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\"?>"),
        }
    }

    /// `<name>` or, with a namespace, `<name xmlns="...">`.
    pub fn open(&mut self, name: &str, xmlns: Option<&str>) {
        self.out.push('<');
        self.out.push_str(name);
        if let Some(ns) = xmlns {
            self.out.push_str(" xmlns=\"");
            escape_into(&mut self.out, ns);
            self.out.push('"');
        }
        self.out.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>text</name>`, with `text` escaped.
    pub fn element(&mut self, name: &str, text: &str) {
        self.open(name, None);
        escape_into(&mut self.out, text);
        self.close(name);
    }

    /// `<name/>`.
    pub fn empty(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str("/>");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Appends `text` escaped for XML character data or an attribute value.
///
/// The five markup characters become entities. Other characters below U+0020
/// (and CR, which a parser would normalise to LF) become character
/// references so they survive parsing exactly; SQS message bodies may hold
/// tab, LF and CR. Characters XML 1.0 cannot carry at all (other C0
/// controls) are also written as references: XML 1.1 parsers and the lenient
/// parsers SDKs use accept them, and the alternative, dropping them, would
/// silently change the data.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push('\n'),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("&#x{:X};", c as u32));
            }
            c => out.push(c),
        }
    }
}

/// `text` escaped for XML.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(&mut out, text);
    out
}

/// The awsQuery error document:
/// `<ErrorResponse xmlns=NS><Error><Type>Sender</Type><Code>..</Code>
/// <Message>..</Message><Detail/></Error><RequestId>..</RequestId></ErrorResponse>`.
/// The code is the legacy query code when the error carries one (what query
/// clients match on), else its short name.
pub fn error_body(err: &AwsError, xmlns: &str, request_id: &str) -> String {
    let mut w = XmlWriter::new();
    w.open("ErrorResponse", Some(xmlns));
    w.open("Error", None);
    w.element(
        "Type",
        if err.sender_fault {
            "Sender"
        } else {
            "Receiver"
        },
    );
    w.element("Code", err.query_code.unwrap_or(&err.code));
    w.element("Message", &err.message);
    w.empty("Detail");
    w.close("Error");
    w.element("RequestId", request_id);
    w.close("ErrorResponse");
    w.finish()
}

/// An HTTP response carrying an XML document.
pub fn response(status: StatusCode, body: String) -> Response<Bytes> {
    let mut response = Response::new(Bytes::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE_XML));
    response
}

/// The awsQuery error response for `err`, with its HTTP status.
pub fn error_response(err: &AwsError, xmlns: &str, request_id: &str) -> Response<Bytes> {
    let status = StatusCode::from_u16(err.status).unwrap_or(StatusCode::BAD_REQUEST);
    response(status, error_body(err, xmlns, request_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(
            escape("a&b<c>d\"e'f\tg\rh\ni\u{1}"),
            "a&amp;b&lt;c&gt;d&quot;e&apos;f&#x9;g&#xD;h\ni&#x1;"
        );
        assert_eq!(escape("é 😀"), "é 😀");
    }

    #[test]
    fn writes_nested_elements() {
        let mut w = XmlWriter::new();
        w.open("R", Some("urn:x&y"));
        w.element("A", "<1>");
        w.empty("B");
        w.close("R");
        assert_eq!(
            w.finish(),
            "<?xml version=\"1.0\"?><R xmlns=\"urn:x&amp;y\"><A>&lt;1&gt;</A><B/></R>"
        );
    }

    #[test]
    fn error_document_prefers_query_code() {
        let err = AwsError::new(
            400,
            "ns",
            "QueueDoesNotExist",
            "The specified queue does not exist.",
        )
        .with_query_error("AWS.SimpleQueueService.NonExistentQueue", true);
        assert_eq!(
            error_body(&err, "urn:q", "rid"),
            "<?xml version=\"1.0\"?><ErrorResponse xmlns=\"urn:q\"><Error><Type>Sender</Type>\
<Code>AWS.SimpleQueueService.NonExistentQueue</Code>\
<Message>The specified queue does not exist.</Message><Detail/></Error>\
<RequestId>rid</RequestId></ErrorResponse>"
        );
        let internal =
            AwsError::new(500, "ns", "InternalError", "x").with_query_error("InternalError", false);
        assert!(error_body(&internal, "urn:q", "r").contains("<Type>Receiver</Type>"));
        let plain = AwsError::missing_authentication_token();
        assert!(error_body(&plain, "urn:q", "r")
            .contains("<Code>MissingAuthenticationTokenException</Code>"));
    }
}
