//! One client connection: the WebSocket, the Noise handshake, then encrypted nodes both ways.
//! A new device is sent pairing refs and waits for a phone to scan its QR code; a linked one
//! logs in and has every IQ it asks answered.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::WebSocketStream;
use whatsapp_rust::buffa::Message as _;
use whatsapp_rust::wacore::framing::{encode_frame, FrameDecoder};
use whatsapp_rust::wacore::noise::NoiseCipher;
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::consts::WA_CONN_HEADER;
use whatsapp_rust::wacore_binary::node::Node;
use whatsapp_rust::waproto::whatsapp as wa;

use crate::nodes::{self, attr, child, children, hex, iq_error, iq_result, leaf};
use crate::noise::{self, Established, Hello, XxResponder};
use crate::{now, Bundle, CodeHello, Command, Companion, Handshake, Shared, Unpaired};

type Ws = WebSocketStream<TcpStream>;

pub async fn serve(tcp: TcpStream, shared: Arc<Shared>) {
    if let Err(e) = run(tcp, shared).await {
        tracing::debug!("peer connection ended: {e}");
    }
}

/// Frames read off the WebSocket; the client's first frame comes after the connection header.
struct Reader {
    source: SplitStream<Ws>,
    decoder: FrameDecoder,
    header_seen: bool,
    pending: Vec<u8>,
}

impl Reader {
    async fn next(&mut self) -> Result<Vec<u8>, String> {
        loop {
            if self.header_seen {
                if let Some(frame) = self.decoder.decode_frame() {
                    return Ok(frame.to_vec());
                }
            }
            let message = self
                .source
                .next()
                .await
                .ok_or("the client closed the connection")?
                .map_err(|e| format!("websocket: {e}"))?;
            let data = match message {
                Frame::Binary(data) => data,
                Frame::Close(_) => return Err("the client closed the connection".into()),
                _ => continue,
            };
            if self.header_seen {
                self.decoder.feed(&data);
            } else {
                self.pending.extend_from_slice(&data);
                if let Some(rest) = strip_header(&self.pending)? {
                    self.decoder.feed(&rest);
                    self.header_seen = true;
                    self.pending.clear();
                }
            }
        }
    }
}

/// The bytes after the connection header (`WA 6 3`, maybe after an `ED` routing preamble),
/// or `None` while not all of it has arrived.
fn strip_header(data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut at = 0;
    if data.starts_with(b"ED\x00\x01") {
        if data.len() < 7 {
            return Ok(None);
        }
        let len = (usize::from(data[4]) << 16) | (usize::from(data[5]) << 8) | usize::from(data[6]);
        at = 7 + len;
    }
    if data.len() < at + WA_CONN_HEADER.len() {
        return Ok(None);
    }
    if data[at..at + WA_CONN_HEADER.len()] != WA_CONN_HEADER {
        return Err("the connection does not start with WhatsApp's header".into());
    }
    Ok(Some(data[at + WA_CONN_HEADER.len()..].to_vec()))
}

/// The encrypted half that sends.
struct Writer {
    sink: SplitSink<Ws, Frame>,
    cipher: NoiseCipher,
    counter: u32,
}

impl Writer {
    async fn send(&mut self, node: &Node) -> Result<(), String> {
        let plaintext = nodes::encode(node)?;
        let sealed = self
            .cipher
            .encrypt_with_counter(self.counter, &plaintext)
            .map_err(|e| format!("encrypt: {e}"))?;
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or("frame counter exhausted")?;
        raw_send(&mut self.sink, &sealed).await
    }
}

async fn raw_send(sink: &mut SplitSink<Ws, Frame>, payload: &[u8]) -> Result<(), String> {
    let frame = encode_frame(payload, None).map_err(|e| format!("frame: {e}"))?;
    sink.send(Frame::Binary(frame.into()))
        .await
        .map_err(|e| format!("websocket: {e}"))
}

async fn handshake(
    reader: &mut Reader,
    sink: &mut SplitSink<Ws, Frame>,
    shared: &Shared,
) -> Result<Established, String> {
    let hello = noise::parse_hello(&reader.next().await?)?;
    let ephemeral = match hello {
        Hello::Xx { ephemeral } => ephemeral,
        Hello::Ik {
            ephemeral,
            encrypted_static,
            encrypted_payload,
        } => match noise::accept_ik(
            &shared.identity,
            &ephemeral,
            &encrypted_static,
            &encrypted_payload,
        ) {
            Ok((server_hello, established)) => {
                raw_send(sink, &server_hello).await?;
                return Ok(established);
            }
            Err(Some(e)) => return Err(e),
            // Encrypted to a key we do not hold: the full handshake, from the same ephemeral.
            Err(None) => {
                let (server_hello, responder) =
                    XxResponder::start(&shared.identity, &ephemeral, true)?;
                raw_send(sink, &server_hello).await?;
                return responder.finish(&reader.next().await?);
            }
        },
    };
    let (server_hello, responder) = XxResponder::start(&shared.identity, &ephemeral, false)?;
    raw_send(sink, &server_hello).await?;
    responder.finish(&reader.next().await?)
}

async fn run(tcp: TcpStream, shared: Arc<Shared>) -> Result<(), String> {
    let ws = tokio_tungstenite::accept_async(tcp)
        .await
        .map_err(|e| format!("websocket upgrade: {e}"))?;
    let (mut sink, source) = ws.split();
    let mut reader = Reader {
        source,
        decoder: FrameDecoder::new(),
        header_seen: false,
        pending: Vec::new(),
    };
    let established = match handshake(&mut reader, &mut sink, &shared).await {
        Ok(established) => established,
        Err(e) => {
            shared.state().unfinished_handshakes += 1;
            shared.changed.notify_waiters();
            return Err(e);
        }
    };
    let read = established.read;
    let mut read_counter: u32 = 0;
    let mut writer = Writer {
        sink,
        cipher: established.write,
        counter: 0,
    };
    let (tx, mut rx) = mpsc::unbounded_channel::<Command>();
    let mut session = Session {
        shared: shared.clone(),
        companion: None,
        waiting: HashMap::new(),
        static_key: established.client_static,
    };

    match established.payload.username {
        None => {
            // A new device: pairing refs, and wait for a phone to scan.
            let identity: [u8; 32] = established
                .payload
                .device_pairing_data
                .as_option()
                .and_then(|d| d.e_ident.clone())
                .and_then(|k| k.try_into().ok())
                .ok_or("a registration without an identity key")?;
            let refs: Vec<String> = (0..6)
                .map(|_| format!("2@{}", hex(&rand::random::<[u8; 18]>())))
                .collect();
            let id = {
                let mut state = shared.state();
                state.handshakes.push(Handshake {
                    pattern: established.pattern,
                    device: None,
                });
                state.unpaired.insert(
                    established.client_static,
                    Unpaired {
                        refs: refs.clone(),
                        identity,
                        tx: tx.clone(),
                        code: None,
                        finish: None,
                    },
                );
                state.next_id()
            };
            let pair_device = NodeBuilder::new("iq")
                .attr("from", "s.whatsapp.net")
                .attr("type", "set")
                .attr("id", id)
                .attr("xmlns", "md")
                .children([NodeBuilder::new("pair-device")
                    .children(
                        refs.into_iter()
                            .map(|r| NodeBuilder::new("ref").bytes(r.into_bytes()).build()),
                    )
                    .build()])
                .build();
            writer.send(&pair_device).await?;
        }
        Some(username) => {
            let (known, banned) = {
                let state = shared.state();
                (
                    state.companions.get(&established.client_static).cloned(),
                    state.banned.contains(&username.to_string()),
                )
            };
            if banned {
                // As WhatsApp answers a temporarily banned account: code and seconds left.
                writer
                    .send(
                        &NodeBuilder::new("failure")
                            .attr("reason", "402")
                            .attr("code", "101")
                            .attr("expire", "86400")
                            .build(),
                    )
                    .await?;
                return Ok(());
            }
            let device = established.payload.device.unwrap_or(0);
            let companion = match known {
                Some(c) if c.phone == username.to_string() && u32::from(c.device) == device => c,
                _ => {
                    // Not a device this server linked: logged out, as WhatsApp says it.
                    writer
                        .send(&NodeBuilder::new("failure").attr("reason", "401").build())
                        .await?;
                    return Ok(());
                }
            };
            let backlog = {
                let mut state = shared.state();
                state.handshakes.push(Handshake {
                    pattern: established.pattern,
                    device: Some(companion.jid()),
                });
                state.online.insert(companion.jid(), tx.clone());
                // Taken with it marked online: whatever comes after goes down `tx`.
                state.backlog(&companion.jid())
            };
            writer
                .send(
                    &NodeBuilder::new("success")
                        .attr("t", now().to_string())
                        .attr("lid", format!("{}@lid", companion.lid))
                        .build(),
                )
                .await?;
            // What arrived while it was away, and what it never confirmed.
            for node in &backlog {
                writer.send(node).await?;
                shared.state().wrote(&companion.jid(), node);
            }
            session.companion = Some(companion);
            shared.changed.notify_waiters();
        }
    }

    let mut silent = false;
    let result = 'serve: loop {
        tokio::select! {
            frame = reader.next(), if !silent => {
                let mut data = match frame {
                    Ok(data) => data,
                    Err(e) => break Err(e),
                };
                if let Err(e) = read.decrypt_in_place_with_counter(read_counter, &mut data) {
                    break Err(format!("decrypt: {e}"));
                }
                read_counter = match read_counter.checked_add(1) {
                    Some(c) => c,
                    None => break Err("frame counter exhausted".into()),
                };
                let node = match nodes::decode(&data) {
                    Ok(node) => node,
                    Err(e) => break Err(e),
                };
                for answer in session.handle(node) {
                    if let Err(e) = writer.send(&answer).await {
                        break 'serve Err(e);
                    }
                }
            }
            command = rx.recv() => match command {
                Some(Command::Request(node, reply)) => {
                    if let Some(id) = attr(&node, "id") {
                        session.waiting.insert(id, reply);
                    }
                    if let Err(e) = writer.send(&node).await {
                        break 'serve Err(e);
                    }
                }
                Some(Command::Deliver(node)) => {
                    if let Err(e) = writer.send(&node).await {
                        break 'serve Err(e);
                    }
                    if let Some(companion) = &session.companion {
                        shared.state().wrote(&companion.jid(), &node);
                    }
                }
                Some(Command::StreamError(node)) => {
                    let sent = writer.send(&node).await;
                    let _ = writer.sink.close().await;
                    break 'serve sent;
                }
                // Dropping the socket halves closes the TCP connection with no close frame.
                Some(Command::Drop) => break Ok(()),
                Some(Command::Silence) => silent = true,
                None => break Ok(()),
            },
        }
    };
    session.gone();
    result
}

/// What the peer knows of one connection while it runs.
struct Session {
    shared: Arc<Shared>,
    companion: Option<Companion>,
    /// The peer's own IQs waiting for the client's answer, by id.
    waiting: HashMap<String, oneshot::Sender<Node>>,
    static_key: [u8; 32],
}

impl Session {
    /// The answers to one node from the client.
    fn handle(&mut self, node: Node) -> Vec<Node> {
        match node.tag.as_ref() {
            "iq" => self.iq(node),
            "message" => self.route_message(&node),
            "receipt" => self.route_receipt(&node),
            _ => Vec::new(),
        }
    }

    /// A message to a contact: each device's copy (`<participants><to jid>`), already
    /// encrypted by the sender for that device, goes to that device as an incoming message;
    /// the sender gets the server's ack.
    fn route_message(&self, node: &Node) -> Vec<Node> {
        let Some(sender) = self.companion.as_ref() else {
            return Vec::new();
        };
        let id = attr(node, "id").unwrap_or_default();
        let to = attr(node, "to").unwrap_or_default();
        let kind = attr(node, "type").unwrap_or_else(|| "text".into());
        let identity = child(node, "device-identity").cloned();
        let copies: Vec<&Node> = child(node, "participants")
            .map(|p| children(p, "to").collect())
            .unwrap_or_default();
        let mut state = self.shared.state();
        for copy in copies {
            let (Some(target), Some(enc)) = (attr(copy, "jid"), child(copy, "enc")) else {
                continue;
            };
            let target = device_jid(&target);
            if target == sender.jid() {
                continue;
            }
            let mut parts = vec![enc.clone()];
            parts.extend(identity.clone());
            let incoming = NodeBuilder::new("message")
                .attr("from", sender.jid())
                .attr("id", id.clone())
                .attr("t", now().to_string())
                .attr("type", kind.clone())
                .attr("notify", format!("+{}", sender.phone))
                .children(parts)
                .build();
            state.deliver_message(&target, &id, incoming);
        }
        vec![NodeBuilder::new("ack")
            .attr("class", "message")
            .attr("id", id)
            .attr("from", to)
            .attr("t", now().to_string())
            .build()]
    }

    /// A receipt (delivered, read, played) for messages of another account: to that
    /// account's devices, from this device; acked to this device.
    fn route_receipt(&self, node: &Node) -> Vec<Node> {
        let Some(sender) = self.companion.as_ref() else {
            return Vec::new();
        };
        let id = attr(node, "id").unwrap_or_default();
        let to = attr(node, "to").unwrap_or_default();
        let phone = to.split(['@', ':']).next().unwrap_or_default().to_owned();
        let kind = attr(node, "type");
        let mut state = self.shared.state();
        if state.receipts_lost.contains(&sender.jid()) {
            return Vec::new();
        }
        // The receipt covers its own id and those listed in it.
        let mut ids = vec![id.clone()];
        if let Some(list) = child(node, "list") {
            ids.extend(children(list, "item").filter_map(|item| attr(item, "id")));
        }
        state.confirmed(&sender.jid(), &ids);
        let mut forwarded = NodeBuilder::new("receipt")
            .attr("from", sender.jid())
            .attr("id", id.clone())
            .attr("t", now().to_string());
        if let Some(kind) = &kind {
            forwarded = forwarded.attr("type", kind.clone());
        }
        let forwarded = match node.children() {
            Some(list) if !list.is_empty() => forwarded.children(list.to_vec()).build(),
            _ => forwarded.build(),
        };
        for device in state.devices_of(&phone) {
            state.deliver(&device.jid(), forwarded.clone());
        }
        let mut ack = NodeBuilder::new("ack")
            .attr("class", "receipt")
            .attr("id", id)
            .attr("from", to);
        if let Some(kind) = kind {
            ack = ack.attr("type", kind);
        }
        vec![ack.build()]
    }

    fn iq(&mut self, node: Node) -> Vec<Node> {
        let kind = attr(&node, "type").unwrap_or_default();
        if kind == "result" || kind == "error" {
            if let Some(reply) = attr(&node, "id").and_then(|id| self.waiting.remove(&id)) {
                let _ = reply.send(node);
            }
            return Vec::new();
        }
        let xmlns = attr(&node, "xmlns").unwrap_or_default();
        match xmlns.as_str() {
            // Leaving passive mode: then the offline queue is empty, which the client waits for.
            "md" => self.md(&node),
            "passive" => vec![
                iq_result(&node, vec![]),
                NodeBuilder::new("ib")
                    .attr("from", "s.whatsapp.net")
                    .children([NodeBuilder::new("offline").attr("count", "0").build()])
                    .build(),
            ],
            "encrypt" => vec![self.encrypt(&node)],
            "abt" => vec![iq_result(
                &node,
                vec![NodeBuilder::new("props").attr("protocol", "1").build()],
            )],
            "blocklist" => vec![iq_result(&node, vec![leaf("list")])],
            "privacy" => vec![iq_result(&node, vec![leaf("privacy")])],
            "usync" => vec![self.usync(&node)],
            "w:sync:app:state" => vec![app_state(&node)],
            // Where to upload and download media: the peer's media host, with the auth it
            // requires (WhatsApp names its CDN hosts here the same way).
            "w:m" if child(&node, "media_conn").is_some() => {
                let state = self.shared.state();
                vec![iq_result(
                    &node,
                    vec![NodeBuilder::new("media_conn")
                        .attr("auth", state.media_auth.clone())
                        .attr("ttl", "3600")
                        .attr("auth_ttl", "3600")
                        .attr("max_buckets", "12")
                        .children([NodeBuilder::new("host")
                            .attr("hostname", state.media_host.clone())
                            .build()])
                        .build()],
                )]
            }
            _ => vec![iq_result(&node, vec![])],
        }
    }

    /// Linking by pairing code: the companion's hello (answered with a ref) and its finish
    /// (handed to the phone that entered the code).
    fn md(&self, node: &Node) -> Vec<Node> {
        let Some(reg) = child(node, "link_code_companion_reg") else {
            return vec![iq_result(node, vec![])];
        };
        let stage = attr(reg, "stage").unwrap_or_default();
        let mut state = self.shared.state();
        let Some(waiting) = state.unpaired.get_mut(&self.static_key) else {
            return vec![iq_error(node, 400, "bad-request")];
        };
        match stage.as_str() {
            "companion_hello" => {
                let phone = attr(reg, "jid")
                    .unwrap_or_default()
                    .split(['@', ':'])
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                let Some(wrapped) = child(reg, "link_code_pairing_wrapped_companion_ephemeral_pub")
                    .and_then(nodes::bytes)
                else {
                    return vec![iq_error(node, 400, "bad-request")];
                };
                let reference = hex(&rand::random::<[u8; 16]>());
                waiting.code = Some(CodeHello {
                    phone,
                    wrapped_ephemeral: wrapped.to_vec(),
                    reference: reference.clone(),
                });
                vec![iq_result(
                    node,
                    vec![NodeBuilder::new("link_code_companion_reg")
                        .children([NodeBuilder::new("link_code_pairing_ref")
                            .bytes(reference.into_bytes())
                            .build()])
                        .build()],
                )]
            }
            "companion_finish" => {
                if let Some(finish) = waiting.finish.take() {
                    let _ = finish.send(node.clone());
                }
                vec![iq_result(node, vec![])]
            }
            _ => vec![iq_result(node, vec![])],
        }
    }

    fn encrypt(&self, node: &Node) -> Node {
        if child(node, "count").is_some() {
            return iq_result(
                node,
                vec![NodeBuilder::new("count").attr("value", "812").build()],
            );
        }
        if child(node, "digest").is_some() {
            // The server cannot vouch for the keys' digest: the client skips the check.
            return iq_error(node, 503, "service-unavailable");
        }
        if let Some(keys) = child(node, "key") {
            return self.fetch_keys(node, keys);
        }
        if child(node, "registration").is_some() {
            self.store_keys(node);
        }
        iq_result(node, vec![])
    }

    /// Keeps the Signal keys a companion uploads after its login.
    fn store_keys(&self, node: &Node) {
        let Some(companion) = &self.companion else {
            return;
        };
        let field = |n: &Node, tag: &str| {
            child(n, tag)
                .and_then(nodes::bytes)
                .map(<[u8]>::to_vec)
                .unwrap_or_default()
        };
        let skey = child(node, "skey");
        let bundle = Bundle {
            registration: field(node, "registration"),
            identity: field(node, "identity"),
            signed_pre_key: skey
                .map(|k| (field(k, "id"), field(k, "value"), field(k, "signature")))
                .unwrap_or_default(),
            pre_keys: child(node, "list")
                .map(|list| {
                    children(list, "key")
                        .map(|k| (field(k, "id"), field(k, "value")))
                        .collect()
                })
                .unwrap_or_default(),
        };
        self.shared.state().bundles.insert(companion.jid(), bundle);
    }

    /// The keys of each device asked for (a one-time pre-key each, while they last), with the
    /// device identity its phone signed; a device without keys here is refused (406).
    fn fetch_keys(&self, node: &Node, keys: &Node) -> Node {
        let mut state = self.shared.state();
        let mut users = Vec::new();
        for jid in children(keys, "user").filter_map(|u| attr(u, "jid")) {
            let device = device_jid(&jid);
            let signed_identity = state
                .companions
                .values()
                .find(|c| c.jid() == device)
                .map(|c| c.signed_identity.clone());
            let Some(bundle) = state.bundles.get_mut(&device) else {
                users.push(
                    NodeBuilder::new("user")
                        .attr("jid", jid)
                        .children([NodeBuilder::new("error")
                            .attr("code", "406")
                            .attr("text", "not-acceptable")
                            .build()])
                        .build(),
                );
                continue;
            };
            let bytes =
                |tag: &'static str, b: &[u8]| NodeBuilder::new(tag).bytes(b.to_vec()).build();
            let mut parts = vec![
                bytes("registration", &bundle.registration),
                bytes("type", &[5u8]),
                bytes("identity", &bundle.identity),
                NodeBuilder::new("skey")
                    .children([
                        bytes("id", &bundle.signed_pre_key.0),
                        bytes("value", &bundle.signed_pre_key.1),
                        bytes("signature", &bundle.signed_pre_key.2),
                    ])
                    .build(),
            ];
            if let Some((id, value)) = bundle.pre_keys.pop_front() {
                parts.push(
                    NodeBuilder::new("key")
                        .children([bytes("id", &id), bytes("value", &value)])
                        .build(),
                );
            }
            if let Some(identity) = signed_identity.filter(|i| !i.is_empty()) {
                parts.push(bytes("device-identity", &identity));
            }
            users.push(
                NodeBuilder::new("user")
                    .attr("jid", jid)
                    .children(parts)
                    .build(),
            );
        }
        iq_result(node, vec![NodeBuilder::new("list").children(users).build()])
    }

    /// Devices and LIDs of the users asked about: each account has its phone (device 0).
    fn usync(&self, node: &Node) -> Node {
        let Some(usync) = child(node, "usync") else {
            return iq_error(node, 400, "bad-request");
        };
        let query = child(usync, "query");
        let wants_devices = query.and_then(|q| child(q, "devices")).is_some();
        let wants_lid = query.and_then(|q| child(q, "lid")).is_some();
        let state = self.shared.state();
        let users: Vec<Node> = child(usync, "list")
            .map(|list| {
                children(list, "user")
                    .filter_map(|user| attr(user, "jid"))
                    .map(|jid| {
                        let number = jid.split(['@', ':']).next().unwrap_or_default().to_owned();
                        let mut parts = Vec::new();
                        if wants_devices {
                            parts.push(devices_node(&state.devices_of(&number)));
                        }
                        if wants_lid {
                            // No LID for others: devices are addressed by phone number, as
                            // an account that has not moved to LIDs is.
                            parts.push(leaf("lid"));
                        }
                        NodeBuilder::new("user")
                            .attr("jid", jid)
                            .children(parts)
                            .build()
                    })
                    .collect()
            })
            .unwrap_or_default();
        iq_result(
            node,
            vec![NodeBuilder::new("usync")
                .children([NodeBuilder::new("list").children(users).build()])
                .build()],
        )
    }

    fn gone(&mut self) {
        let mut state = self.shared.state();
        if let Some(c) = &self.companion {
            state.online.remove(&c.jid());
        }
        state.unpaired.remove(&self.static_key);
        drop(state);
        self.shared.changed.notify_waiters();
    }
}

/// The app-state collections asked for, each synced and empty.
fn app_state(node: &Node) -> Node {
    let asked: Vec<Node> = child(node, "sync")
        .map(|sync| {
            children(sync, "collection")
                .filter_map(|c| attr(c, "name"))
                .map(|name| NodeBuilder::new("collection").attr("name", name).build())
                .collect()
        })
        .unwrap_or_default();
    iq_result(node, vec![NodeBuilder::new("sync").children(asked).build()])
}

/// A device's JID in the form the peer keys it by: `phone:device@s.whatsapp.net`, and
/// `phone@s.whatsapp.net` for the phone itself (device 0).
fn device_jid(jid: &str) -> String {
    let (user, _) = jid.split_once('@').unwrap_or((jid, ""));
    match user.split_once(':') {
        Some((phone, "0")) => format!("{phone}@s.whatsapp.net"),
        Some((phone, device)) => format!("{phone}:{device}@s.whatsapp.net"),
        None => format!("{user}@s.whatsapp.net"),
    }
}

/// A user's devices for usync: its companions with their key index, and the signed list of
/// valid key indexes that the client requires beside companions (the phone, device 0, for an
/// account with none).
fn devices_node(companions: &[Companion]) -> Node {
    let list: Vec<Node> = if companions.is_empty() {
        vec![NodeBuilder::new("device").attr("id", "0").build()]
    } else {
        companions
            .iter()
            .map(|c| {
                NodeBuilder::new("device")
                    .attr("id", c.device.to_string())
                    .attr("key-index", "1")
                    .build()
            })
            .collect()
    };
    let mut parts = vec![NodeBuilder::new("device-list").children(list).build()];
    if !companions.is_empty() {
        let key_indexes = wa::ADVSignedKeyIndexList {
            details: Some(
                wa::ADVKeyIndexList {
                    raw_id: Some(1),
                    timestamp: Some(now()),
                    current_index: Some(1),
                    valid_indexes: vec![1],
                    account_type: None,
                }
                .encode_to_vec(),
            ),
            account_signature: None,
            account_signature_key: None,
        }
        .encode_to_vec();
        parts.push(
            NodeBuilder::new("key-index-list")
                .attr("ts", now().to_string())
                .bytes(key_indexes)
                .build(),
        );
    }
    NodeBuilder::new("devices").children(parts).build()
}
