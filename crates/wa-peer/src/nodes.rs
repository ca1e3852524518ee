//! Reading and building the binary XML nodes of the protocol, in the few shapes the peer needs.

use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::node::{Node, NodeContent, NodeValue};
use whatsapp_rust::wacore_binary::{marshal, util};

/// A node from a decrypted frame (a flag byte, maybe zlib, then the node).
pub fn decode(plaintext: &[u8]) -> Result<Node, String> {
    let data = util::unpack(plaintext).map_err(|e| format!("unpack: {e}"))?;
    let node = marshal::unmarshal_ref(&data).map_err(|e| format!("unmarshal: {e}"))?;
    Ok(node.to_owned())
}

/// The plaintext of a frame carrying `node`.
pub fn encode(node: &Node) -> Result<Vec<u8>, String> {
    marshal::marshal(node).map_err(|e| format!("marshal: {e}"))
}

/// An attribute as text (a JID attribute in its written form).
pub fn attr(node: &Node, key: &str) -> Option<String> {
    node.attrs
        .iter()
        .find(|(k, _)| k.as_ref() == key)
        .map(|(_, v)| match v {
            NodeValue::String(s) => s.to_string(),
            NodeValue::Jid(j) => j.to_string(),
        })
}

pub fn child<'a>(node: &'a Node, tag: &str) -> Option<&'a Node> {
    node.children()?.iter().find(|c| c.tag == tag)
}

pub fn children<'a>(node: &'a Node, tag: &'a str) -> impl Iterator<Item = &'a Node> {
    node.children()
        .unwrap_or_default()
        .iter()
        .filter(move |c| c.tag == tag)
}

pub fn bytes(node: &Node) -> Option<&[u8]> {
    match &node.content {
        Some(NodeContent::Bytes(b)) => Some(b),
        Some(NodeContent::String(s)) => Some(s.as_bytes()),
        _ => None,
    }
}

/// `<iq type="result" id=… from="s.whatsapp.net">children</iq>`, the answer to a client's IQ.
pub fn iq_result(request: &Node, children: Vec<Node>) -> Node {
    let id = attr(request, "id").unwrap_or_default();
    let b = NodeBuilder::new("iq")
        .attr("type", "result")
        .attr("id", id)
        .attr("from", "s.whatsapp.net");
    if children.is_empty() {
        b.build()
    } else {
        b.children(children).build()
    }
}

/// `<iq type="error" id=…><error code=… text=…/></iq>`.
pub fn iq_error(request: &Node, code: u16, text: &str) -> Node {
    let id = attr(request, "id").unwrap_or_default();
    NodeBuilder::new("iq")
        .attr("type", "error")
        .attr("id", id)
        .attr("from", "s.whatsapp.net")
        .children([NodeBuilder::new("error")
            .attr("code", code.to_string())
            .attr("text", text)
            .build()])
        .build()
}

pub fn leaf(tag: &'static str) -> Node {
    NodeBuilder::new(tag).build()
}

/// Lower-case hex, for refs and tokens.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
