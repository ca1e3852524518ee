//! A local WhatsApp Web server for wasl's tests, speaking the real wire protocol: WebSocket
//! frames with 3-byte lengths, the `WA 6 3` connection header, Noise XX (new devices), IK
//! (returning ones) and the XX fallback, with the peer's own certificate chain; binary XML
//! nodes encrypted per frame with AES-GCM. Its simulated phones link companions by QR code
//! with signed device identities, and it answers what a client asks after login so the client
//! reaches "connected" and stays there.
//!
//! This is test support only: it is never a dependency of the wasl binary, and a wasl built
//! for release refuses its certificate chain (it is not signed by WhatsApp's root).

#![forbid(unsafe_code)]

mod camera;
mod cert;
mod conn;
mod media;
mod nodes;
mod noise;
mod phone;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot, Notify};
use whatsapp_rust::wacore_binary::builder::NodeBuilder;
use whatsapp_rust::wacore_binary::node::Node;

pub use camera::read_qr;
pub use noise::Pattern;
pub use phone::Qr;

use cert::ServerIdentity;
use nodes::hex;
use phone::Account;

/// The running peer; it stops (and drops every connection) when dropped.
pub struct Peer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: tokio::task::JoinHandle<()>,
    media: tokio::task::JoinHandle<()>,
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.accept.abort();
        self.media.abort();
    }
}

/// A handshake the peer completed, in order, for the tests to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    pub pattern: Pattern,
    /// The companion's JID when it logged in as a known device, `None` for a new device.
    pub device: Option<String>,
}

struct Shared {
    identity: ServerIdentity,
    state: Mutex<State>,
    changed: Notify,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[derive(Default)]
struct State {
    /// New devices waiting to be linked, by their static Noise key.
    unpaired: HashMap<[u8; 32], Unpaired>,
    /// Accounts by phone number.
    accounts: HashMap<String, Account>,
    /// Linked companions by their static Noise key.
    companions: HashMap<[u8; 32], Companion>,
    /// Logged-in connections by the companion's JID.
    online: HashMap<String, mpsc::UnboundedSender<Command>>,
    handshakes: Vec<Handshake>,
    /// Handshakes a client began and never finished (it hung up, or sent nonsense).
    unfinished_handshakes: usize,
    /// The Signal keys each companion uploaded, by its JID: what others fetch to start a
    /// session with it.
    bundles: HashMap<String, Bundle>,
    /// Receipts for companions that are not online, delivered when they log in.
    queued: HashMap<String, Vec<Node>>,
    /// Messages handed to each companion that it has not confirmed with a receipt yet: as
    /// WhatsApp's offline store does, they are offered again at each login until it does.
    unconfirmed: HashMap<String, Vec<(String, Node)>>,
    /// How many message stanzas were written to each companion's connections.
    written: HashMap<String, usize>,
    /// Companions whose receipts are lost on the way (never reach the peer), on demand.
    receipts_lost: std::collections::HashSet<String>,
    /// Accounts whose logins are refused as banned.
    banned: std::collections::HashSet<String>,
    /// The media host's `host:port`, as the `media_conn` answer names it.
    media_host: String,
    /// What the media host requires in `auth`: handed out in the `media_conn` answer.
    media_auth: String,
    /// Encrypted media uploaded to the media host, by direct path.
    media: HashMap<String, Vec<u8>>,
    uploads: usize,
    next_id: u64,
}

impl State {
    fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("peer-{}", self.next_id)
    }
}

struct Unpaired {
    /// The pairing refs sent to it; its QR code shows one of them.
    refs: Vec<String>,
    /// Its identity key, from the registration payload (the QR code shows it too).
    identity: [u8; 32],
    tx: mpsc::UnboundedSender<Command>,
    /// Its request to link by pairing code, once it made one.
    code: Option<CodeHello>,
    /// Where its `companion_finish` goes, once the phone entered the code.
    finish: Option<oneshot::Sender<Node>>,
}

/// A companion's `companion_hello`: link with this number, by a code shown on the companion.
#[derive(Debug, Clone)]
struct CodeHello {
    phone: String,
    /// Its ephemeral key, wrapped with the code.
    wrapped_ephemeral: Vec<u8>,
    /// The ref the peer answered with.
    reference: String,
}

#[derive(Debug, Clone)]
struct Companion {
    phone: String,
    device: u16,
    lid: String,
    /// The device identity as the companion signed it (`pair-device-sign`): what the peer
    /// hands out with its keys, so that others can check the phone vouched for it.
    signed_identity: Vec<u8>,
}

impl Companion {
    fn jid(&self) -> String {
        format!("{}:{}@s.whatsapp.net", self.phone, self.device)
    }
}

/// A companion's uploaded Signal keys, as their bytes travel on the wire.
#[derive(Debug, Clone, Default)]
struct Bundle {
    registration: Vec<u8>,
    identity: Vec<u8>,
    signed_pre_key: (Vec<u8>, Vec<u8>, Vec<u8>),
    /// One-time pre-keys, each handed out once.
    pre_keys: std::collections::VecDeque<(Vec<u8>, Vec<u8>)>,
}

impl State {
    /// The companions of an account.
    fn devices_of(&self, phone: &str) -> Vec<Companion> {
        let mut devices: Vec<Companion> = self
            .companions
            .values()
            .filter(|c| c.phone == phone)
            .cloned()
            .collect();
        devices.sort_by_key(|c| c.device);
        devices
    }

    /// Hands the message `id` to the companion `jid`, now if it is online, and again at each
    /// of its logins until it sends a receipt for it.
    fn deliver_message(&mut self, jid: &str, id: &str, node: Node) {
        self.unconfirmed
            .entry(jid.to_owned())
            .or_default()
            .push((id.to_owned(), node.clone()));
        if let Some(tx) = self.online.get(jid) {
            let _ = tx.send(Command::Deliver(node));
        }
    }

    /// A stanza went down the wire to companion `jid`.
    fn wrote(&mut self, jid: &str, node: &Node) {
        if node.tag == "message" {
            *self.written.entry(jid.to_owned()).or_default() += 1;
        }
    }

    /// The companion `jid` confirmed messages `ids`: they are not offered again.
    fn confirmed(&mut self, jid: &str, ids: &[String]) {
        if let Some(list) = self.unconfirmed.get_mut(jid) {
            list.retain(|(id, _)| !ids.contains(id));
        }
    }

    /// What a companion logging in is handed first: receipts that came while it was away
    /// and every message it has not confirmed.
    fn backlog(&mut self, jid: &str) -> Vec<Node> {
        let mut nodes = self.queued.remove(jid).unwrap_or_default();
        if let Some(list) = self.unconfirmed.get(jid) {
            nodes.extend(list.iter().map(|(_, node)| node.clone()));
        }
        nodes
    }

    /// Hands the receipt `node` to the companion `jid`, now if it is online, else when it
    /// logs in.
    fn deliver(&mut self, jid: &str, node: Node) {
        match self.online.get(jid) {
            Some(tx) => {
                if let Err(mpsc::error::SendError(Command::Deliver(node))) =
                    tx.send(Command::Deliver(node))
                {
                    self.queued.entry(jid.to_owned()).or_default().push(node);
                }
            }
            None => self.queued.entry(jid.to_owned()).or_default().push(node),
        }
    }
}

/// What a connection is told to do by the peer's API.
enum Command {
    /// Sends an IQ and hands back the client's answer.
    Request(Node, oneshot::Sender<Node>),
    /// Sends a stanza routed from another device (a message, a receipt).
    Deliver(Node),
    /// Ends the stream with this `<stream:error>` and closes.
    StreamError(Node),
    /// Closes the TCP connection without a word, as a network that drops does.
    Drop,
    /// Keeps the connection open but never reads nor answers again: a dead link that
    /// looks alive.
    Silence,
}

/// What the peer can do to a logged-in companion's connection, on demand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection drops (no stream end): the client should reconnect.
    Drop,
    /// `<stream:error><conflict type="replaced"/>`: another client took the session over.
    Replaced,
    /// `<stream:error code="401"/>`: the phone removed this device (logged out).
    LoggedOut,
    /// The connection stays open and goes silent.
    Silence,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Peer {
    /// Starts the peer on a free port of 127.0.0.1.
    pub async fn start() -> Result<Peer, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let media_listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind the media host: {e}"))?;
        let media_addr = media_listener.local_addr().map_err(|e| e.to_string())?;
        let state = State {
            media_host: media_addr.to_string(),
            media_auth: hex(&rand::random::<[u8; 16]>()),
            ..State::default()
        };
        let shared = Arc::new(Shared {
            identity: ServerIdentity::generate(),
            state: Mutex::new(state),
            changed: Notify::new(),
        });
        let accepting = shared.clone();
        let accept = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                tokio::spawn(conn::serve(tcp, accepting.clone()));
            }
        });
        let media = tokio::spawn(media::accept(media_listener, shared.clone()));
        Ok(Peer {
            addr,
            shared,
            accept,
            media,
        })
    }

    /// The URL for `WASL_WEB_SOCKET_URL`.
    pub fn url(&self) -> String {
        format!("ws://{}/ws/chat", self.addr)
    }

    /// The public key of the peer's certificate root (not WhatsApp's).
    pub fn root_public_key(&self) -> [u8; 32] {
        self.shared.identity.root_public
    }

    /// The handshakes completed so far, in order.
    pub fn handshakes(&self) -> Vec<Handshake> {
        self.shared.state().handshakes.clone()
    }

    /// The phone of `phone` scans `qr` (the text of a companion's QR code): the peer checks
    /// that it names a device waiting on this server with one of the refs it was sent, sends
    /// `pair-success` with a device identity the phone signed, checks the companion's
    /// `pair-device-sign`, and restarts the stream (515) so the companion logs in. Returns the
    /// companion's JID (`phone:device@s.whatsapp.net`).
    pub async fn scan(&self, qr: &str, phone: &str) -> Result<String, String> {
        let qr = Qr::parse(qr)?;
        {
            let state = self.shared.state();
            let waiting = state
                .unpaired
                .get(&qr.noise_key)
                .ok_or("no device with this QR code's key is waiting to be linked")?;
            if !waiting.refs.contains(&qr.reference) {
                return Err(format!("this server never sent the ref {:?}", qr.reference));
            }
            if waiting.identity != qr.identity_key {
                return Err("the QR code's identity key is not the device's".into());
            }
        }
        self.link(qr.noise_key, qr.identity_key, qr.adv_secret, phone)
            .await
    }

    /// The phone of `phone` enters `code`, the pairing code a companion showed after asking to
    /// link with that number: the phone's half of "link with phone number" (the companion's
    /// ephemeral key unwrapped with the code, the phone's own wrapped with it, the key bundle
    /// of `companion_finish` opened, the secret both sides derive), then the same
    /// `pair-success` as a scanned QR code, keyed by that secret.
    pub async fn enter_code(&self, phone: &str, code: &str) -> Result<String, String> {
        let code: String = code
            .chars()
            .filter(|c| *c != '-')
            .collect::<String>()
            .to_uppercase();
        let (noise_key, identity_key, hello, tx, account_identity) = {
            let mut state = self.shared.state();
            let (noise_key, waiting) = state
                .unpaired
                .iter()
                .find(|(_, w)| w.code.as_ref().is_some_and(|c| c.phone == phone))
                .map(|(k, w)| (*k, w))
                .ok_or_else(|| format!("no device asked for a pairing code for {phone}"))?;
            let hello = waiting.code.clone().ok_or("no pairing code flow")?;
            let (identity_key, tx) = (waiting.identity, waiting.tx.clone());
            let account = state
                .accounts
                .entry(phone.to_owned())
                .or_insert_with(|| Account::new(phone));
            (noise_key, identity_key, hello, tx, account.identity.clone())
        };
        let pairing = phone::CodePairing::start(&code, &hello.wrapped_ephemeral)?;
        let (finish_tx, finish_rx) = oneshot::channel();
        {
            let mut state = self.shared.state();
            let id = state.next_id();
            if let Some(waiting) = state.unpaired.get_mut(&noise_key) {
                waiting.finish = Some(finish_tx);
            }
            let notification = NodeBuilder::new("notification")
                .attr("from", "s.whatsapp.net")
                .attr("id", id)
                .attr("type", "link_code_companion_reg")
                .attr("t", now().to_string())
                .children([NodeBuilder::new("link_code_companion_reg")
                    .attr("stage", "primary_hello")
                    .children([
                        NodeBuilder::new("link_code_pairing_wrapped_primary_ephemeral_pub")
                            .bytes(pairing.wrapped_primary_ephemeral(&code).to_vec())
                            .build(),
                        NodeBuilder::new("primary_identity_pub")
                            .bytes(account_identity.public_key.public_key_bytes().to_vec())
                            .build(),
                        NodeBuilder::new("link_code_pairing_ref")
                            .bytes(hello.reference.clone().into_bytes())
                            .build(),
                    ])
                    .build()])
                .build();
            tx.send(Command::Deliver(notification))
                .map_err(|_| "the device's connection is gone")?;
        }
        let finish = finish_rx
            .await
            .map_err(|_| "the device never finished the pairing-code exchange")?;
        let reg = nodes::child(&finish, "link_code_companion_reg")
            .ok_or("companion_finish without link_code_companion_reg")?;
        let bundle = nodes::child(reg, "link_code_pairing_wrapped_key_bundle")
            .and_then(nodes::bytes)
            .ok_or("companion_finish without a key bundle")?;
        let adv_secret = pairing.open_bundle(bundle, &identity_key, &account_identity)?;
        self.link(noise_key, identity_key, adv_secret, phone).await
    }

    /// Links the waiting device of `noise_key` to the account of `phone`: `pair-success`, the
    /// companion's signature checked, the stream restarted.
    async fn link(
        &self,
        noise_key: [u8; 32],
        identity_key: [u8; 32],
        adv_secret: [u8; 32],
        phone: &str,
    ) -> Result<String, String> {
        let (request, tx, companion, account_key) = {
            let mut state = self.shared.state();
            let tx = state
                .unpaired
                .get(&noise_key)
                .map(|w| w.tx.clone())
                .ok_or("the device is no longer waiting to be linked")?;
            let id = state.next_id();
            let account = state
                .accounts
                .entry(phone.to_owned())
                .or_insert_with(|| Account::new(phone));
            let device = account.add_device();
            let identity = account.vouch_for(&identity_key, &adv_secret, now());
            let companion = Companion {
                phone: phone.to_owned(),
                device,
                lid: account.lid.clone(),
                signed_identity: Vec::new(),
            };
            let mut account_key = [0u8; 32];
            account_key.copy_from_slice(account.identity.public_key.public_key_bytes());
            let request = NodeBuilder::new("iq")
                .attr("from", "s.whatsapp.net")
                .attr("type", "set")
                .attr("id", id)
                .attr("xmlns", "md")
                .attr("t", now().to_string())
                .children([NodeBuilder::new("pair-success")
                    .children([
                        NodeBuilder::new("device-identity").bytes(identity).build(),
                        NodeBuilder::new("device")
                            .attr("jid", companion.jid())
                            .attr("lid", format!("{}:{}@lid", companion.lid, device))
                            .build(),
                        // A name for the account, as a business account has: the companion
                        // keeps it as its push name.
                        NodeBuilder::new("biz")
                            .attr("name", format!("+{phone}"))
                            .build(),
                        NodeBuilder::new("platform").attr("name", "android").build(),
                    ])
                    .build()])
                .build();
            (request, tx, companion, account_key)
        };
        let (reply_tx, reply_rx) = oneshot::channel();
        tx.send(Command::Request(request, reply_tx))
            .map_err(|_| "the device's connection is gone")?;
        let reply = reply_rx
            .await
            .map_err(|_| "the device's connection closed before answering pair-success")?;
        if nodes::attr(&reply, "type").as_deref() != Some("result") {
            return Err(format!("the device refused pair-success: {reply:?}"));
        }
        let signed = nodes::child(&reply, "pair-device-sign")
            .and_then(|n| nodes::child(n, "device-identity"))
            .and_then(nodes::bytes)
            .ok_or("pair-device-sign without a device identity")?;
        phone::check_device_signature(signed, &identity_key, &account_key)?;
        let mut companion = companion;
        companion.signed_identity = signed.to_vec();
        let jid = companion.jid();
        {
            let mut state = self.shared.state();
            state.unpaired.remove(&noise_key);
            state.companions.insert(noise_key, companion);
        }
        // The companion reconnects and logs in with its new identity.
        let restart = NodeBuilder::new("stream:error").attr("code", "515").build();
        let _ = tx.send(Command::StreamError(restart));
        self.shared.changed.notify_waiters();
        Ok(jid)
    }

    /// Does `fault` to the live connection of companion `jid`.
    pub fn inject(&self, jid: &str, fault: Fault) -> Result<(), String> {
        let tx = self
            .shared
            .state()
            .online
            .get(jid)
            .cloned()
            .ok_or_else(|| format!("{jid} is not online"))?;
        let command = match fault {
            Fault::Drop => Command::Drop,
            Fault::Silence => Command::Silence,
            Fault::Replaced => Command::StreamError(
                NodeBuilder::new("stream:error")
                    .children([NodeBuilder::new("conflict")
                        .attr("type", "replaced")
                        .build()])
                    .build(),
            ),
            Fault::LoggedOut => {
                // The phone forgets the device, so it cannot log in again either.
                self.shared.state().companions.retain(|_, c| c.jid() != jid);
                Command::StreamError(NodeBuilder::new("stream:error").attr("code", "401").build())
            }
        };
        tx.send(command)
            .map_err(|_| format!("{jid}'s connection is gone"))
    }

    /// Bans the account of `phone`: its connections drop and every login is refused with a
    /// temporary ban (`<failure reason="402">`).
    pub fn ban(&self, phone: &str) {
        let mut state = self.shared.state();
        state.banned.insert(phone.to_owned());
        let prefix = format!("{phone}:");
        for (jid, tx) in &state.online {
            if jid.starts_with(&prefix) {
                let _ = tx.send(Command::Drop);
            }
        }
    }

    /// How many files clients uploaded to the peer's media host.
    pub fn media_uploads(&self) -> usize {
        self.shared.state().uploads
    }

    /// How many handshakes a client began and never finished: a client that refuses the
    /// peer's certificate hangs up after the server's hello.
    pub fn unfinished_handshakes(&self) -> usize {
        self.shared.state().unfinished_handshakes
    }

    /// Waits until a client has hung up in the middle of a handshake: the client's side of the
    /// story ends when it hangs up, the peer learns it when the socket closes, a moment later.
    pub async fn an_unfinished_handshake(&self) {
        loop {
            let mut changed = std::pin::pin!(self.shared.changed.notified());
            changed.as_mut().enable();
            if self.unfinished_handshakes() > 0 {
                return;
            }
            changed.await;
        }
    }

    /// How many logins the peer has accepted for companion `jid`.
    pub fn logins(&self, jid: &str) -> usize {
        self.shared
            .state()
            .handshakes
            .iter()
            .filter(|h| h.device.as_deref() == Some(jid))
            .count()
    }

    /// How many messages the companion `jid` was handed and has not confirmed with a receipt.
    pub fn unconfirmed(&self, jid: &str) -> usize {
        self.shared.state().unconfirmed.get(jid).map_or(0, Vec::len)
    }

    /// How many message stanzas went down the wire to companion `jid`, redeliveries
    /// included.
    pub fn written(&self, jid: &str) -> usize {
        self.shared.state().written.get(jid).copied().unwrap_or(0)
    }

    /// From now on the receipts the companion `jid` sends are lost on the way (`true`), as
    /// when its process dies before they leave; or arrive again (`false`).
    pub fn lose_receipts(&self, jid: &str, lost: bool) {
        let mut state = self.shared.state();
        if lost {
            state.receipts_lost.insert(jid.to_owned());
        } else {
            state.receipts_lost.remove(jid);
        }
    }

    /// Whether the companion `jid` is logged in on a live connection now.
    pub fn is_online(&self, jid: &str) -> bool {
        self.shared.state().online.contains_key(jid)
    }
}
