//! At-least-once for customers' messages on the web engine, with real processes: two wasl
//! installations (a shop and its branch, each its own data and database) linked through the
//! local WhatsApp Web peer, and the branch killed with SIGKILL at the two moments a message
//! can be lost. The peer keeps a message until the recipient's device confirms it with a
//! receipt and offers it again at each login, as WhatsApp's offline store does.
//!
//! 1. The message reached the branch's connection and was not stored yet (the test holds the
//!    branch's database so that it cannot be): after the restart the peer offers it again and
//!    it is stored, once.
//! 2. The message was stored and its receipt never reached the server: offered again after
//!    the restart, it is still stored once.
//!
//! Each restart resumes the linked device with the IK handshake, without a QR code.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Executor;
use wasl_wa_peer::{Pattern, Peer};

use crate::server::{Db, Installation, Process};

const SHOP: &str = "966501230001";
const BRANCH: &str = "966501230002";
const PASSWORD: &str = "very-long-password-123";

async fn until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Creates a web session, shows its QR code to the peer's phone for `phone` and waits until
/// it is connected; the linked device's JID.
async fn linked_web(
    process: &Process,
    token: &str,
    name: &str,
    phone: &str,
    peer: &Peer,
) -> String {
    let (status, body) = process
        .post(
            "/api/v1/whatsapp/sessions",
            token,
            json!({"sessionName": name, "engine": "web"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    let qr = loop {
        let (status, body) = process
            .get(&format!("/api/v1/whatsapp/sessions/{name}/qr"), token)
            .await;
        if status == StatusCode::OK {
            break wasl_wa_peer::read_qr(body["data"]["qrCode"].as_str().expect("qrCode"))
                .expect("a readable QR code");
        }
        assert!(Instant::now() < deadline, "no QR code: {status} {body}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let jid = peer.scan(&qr, phone).await.expect("the phone links");
    process.wait_status(token, name, "connected").await;
    jid
}

/// Sends `text` from the shop to the branch; wasl's id for it.
async fn send(shop: &Process, token: &str, text: &str) -> String {
    let (status, body) = shop
        .post(
            "/api/v1/whatsapp/messages/send",
            token,
            json!({"sessionName": "shop", "to": BRANCH, "text": text}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    body["data"]["message"]["id"]
        .as_str()
        .expect("an id")
        .to_owned()
}

/// The messages of `session` with `contact`, newest first.
async fn messages(process: &Process, token: &str, session: &str, contact: &str) -> Vec<Value> {
    let (status, body) = process
        .get(
            &format!("/api/v1/whatsapp/messages?sessionName={session}&contact={contact}&limit=100"),
            token,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Waits until the branch has `text` from the shop, and says how many copies it has.
async fn copies_at_branch(branch: &Process, token: &str, text: &str) -> usize {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let found = messages(branch, token, "branch", SHOP)
            .await
            .into_iter()
            .filter(|m| m["content"]["text"] == json!(text))
            .count();
        if found > 0 {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "the branch never stored {text:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn delivered_at_shop(shop: &Process, token: &str, id: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let all = messages(shop, token, "shop", BRANCH).await;
        if all
            .iter()
            .any(|m| m["id"] == json!(id) && m["status"] == json!("delivered"))
        {
            return;
        }
        assert!(Instant::now() < deadline, "{id} never delivered: {all:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Holds the installation's database so that its messages cannot be written: on SQLite the
/// whole file (a write transaction), on PostgreSQL the messages table alone (the web
/// engine's own state is still written, so the crate's buffered copy exists).
struct WriteHold {
    connection: sqlx::pool::PoolConnection<sqlx::Any>,
    db: Db,
}

impl WriteHold {
    async fn take(pool: &sqlx::AnyPool, db: Db) -> Self {
        let mut connection = pool.acquire().await.expect("a connection");
        match db {
            Db::Sqlite => {
                connection.execute("BEGIN IMMEDIATE").await.expect("hold");
            }
            Db::Postgres => {
                connection.execute("BEGIN").await.expect("begin");
                connection
                    .execute("LOCK TABLE messages IN EXCLUSIVE MODE")
                    .await
                    .expect("hold");
            }
        }
        WriteHold { connection, db }
    }

    /// Lets go, once the process that was waiting is dead. On PostgreSQL the dead process's
    /// sessions are ended first: a backend waiting on a lock does not notice that its client
    /// is gone, and would otherwise finish the dead process's statement.
    async fn release(mut self) {
        if self.db == Db::Postgres {
            self.connection
                .execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .await
                .expect("end the dead process's sessions");
        }
        self.connection.execute("ROLLBACK").await.expect("let go");
    }
}

pub async fn story(db: Db) {
    let peer = Peer::start().await.expect("the peer");
    let url = peer.url();
    let env = [("WASL_WEB_SOCKET_URL", url.as_str())];
    let shop_site = Installation::new(db, &env).await;
    let branch_site = Installation::new(db, &env).await;
    let shop = shop_site.start().await;
    let mut branch = branch_site.start().await;
    let (shop_token, _) = shop.enterprise_owner("shop@acme.sa", PASSWORD).await;
    let (branch_token, _) = branch.enterprise_owner("branch@acme.sa", PASSWORD).await;
    linked_web(&shop, &shop_token, "shop", SHOP, &peer).await;
    let branch_jid = linked_web(&branch, &branch_token, "branch", BRANCH, &peer).await;
    let branch_db = branch_site.database().await;

    // 1. Killed with the message in hand and not stored.
    let hold = WriteHold::take(&branch_db, db).await;
    let written = peer.written(&branch_jid);
    let first = send(&shop, &shop_token, "الطلب رقم ١ جاهز").await;
    until(
        "the message went down the branch's connection",
        Duration::from_secs(60),
        || peer.written(&branch_jid) > written,
    )
    .await;
    branch.kill();
    hold.release().await;
    assert_eq!(
        peer.unconfirmed(&branch_jid),
        1,
        "{db:?}: the branch never confirmed it"
    );
    let logins = peer.logins(&branch_jid);
    branch = branch_site.start().await;
    branch
        .wait_status(&branch_token, "branch", "connected")
        .await;
    assert_eq!(
        peer.logins(&branch_jid),
        logins + 1,
        "{db:?}: logged in again"
    );
    let last = peer.handshakes().pop().expect("a handshake");
    assert_eq!(
        last.pattern,
        Pattern::Ik,
        "{db:?}: resumed with IK: {last:?}"
    );
    assert_eq!(
        copies_at_branch(&branch, &branch_token, "الطلب رقم ١ جاهز").await,
        1,
        "{db:?}: offered again and stored once"
    );
    delivered_at_shop(&shop, &shop_token, &first).await;
    until("the branch confirmed it", Duration::from_secs(30), || {
        peer.unconfirmed(&branch_jid) == 0
    })
    .await;

    // 2. Killed after storing it, with its receipt lost on the way.
    peer.lose_receipts(&branch_jid, true);
    let second = send(&shop, &shop_token, "الطلب رقم ٢ جاهز").await;
    assert_eq!(
        copies_at_branch(&branch, &branch_token, "الطلب رقم ٢ جاهز").await,
        1
    );
    assert_eq!(
        peer.unconfirmed(&branch_jid),
        1,
        "{db:?}: its receipt was lost"
    );
    branch.kill();
    peer.lose_receipts(&branch_jid, false);
    let written = peer.written(&branch_jid);
    branch = branch_site.start().await;
    branch
        .wait_status(&branch_token, "branch", "connected")
        .await;
    until(
        "offered again and confirmed",
        Duration::from_secs(60),
        || peer.written(&branch_jid) > written && peer.unconfirmed(&branch_jid) == 0,
    )
    .await;
    let all = messages(&branch, &branch_token, "branch", SHOP).await;
    for text in ["الطلب رقم ١ جاهز", "الطلب رقم ٢ جاهز"] {
        let copies = all
            .iter()
            .filter(|m| m["content"]["text"] == json!(text))
            .count();
        assert_eq!(copies, 1, "{db:?}: {text} stored once: {all:?}");
    }
    delivered_at_shop(&shop, &shop_token, &second).await;

    branch_db.close().await;
    branch.stop();
    shop.stop();
    branch_site.remove().await;
    shop_site.remove().await;
}
