//! The web engine's protocol store against whatsapp-rust's own `InMemoryBackend`, on SQLite
//! and on PostgreSQL: every trait method gives the reference's answers, sessions are kept
//! apart, a logout wipes one session only, and nothing secret reaches the database in clear.

// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod conformance;

use conformance::{contains, web_store, Pair, TestDb, MASTER_KEY};
use wasl_domain::SessionId;
use wasl_store::{Store, WebStateWrite};
use whatsapp_rust::store::traits::{DeviceStore, SignalStore};

/// A value no store ever writes in clear: if these bytes show up on disk, sealing failed.
const PLAINTEXT_KEY: [u8; 32] = *b"PLAINTEXT-IDENTITY-KEY-012345678";
const PLAINTEXT_SESSION: &[u8] = b"PLAINTEXT-SIGNAL-SESSION-RECORD-marker";

#[tokio::test(flavor = "multi_thread")]
async fn conformance_on_sqlite() {
    run(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn conformance_on_postgres() {
    run(TestDb::postgres().await).await;
}

async fn run(db: TestDb) {
    let store = db.open().await;
    let pair = Pair::new(&store, "org1_default");
    conformance::signal::story(&pair).await;
    conformance::app_sync::story(&pair).await;
    conformance::protocol::story(&pair).await;
    conformance::device::story(&pair).await;

    sessions_are_apart(&store).await;
    rows_cannot_be_swapped(&store).await;
    nothing_in_clear(&db, &store).await;
    store.close().await;
    // After closing, the SQLite file and its WAL are all there is.
    for file in db.raw_files() {
        assert!(
            !contains(&file, &PLAINTEXT_KEY),
            "plaintext key in the database file"
        );
        assert!(
            !contains(&file, PLAINTEXT_SESSION),
            "plaintext session in the database file"
        );
        let push_name = conformance::device::PUSH_NAME.as_bytes();
        assert!(
            !contains(&file, push_name),
            "device in clear in the database file"
        );
    }
}

async fn sessions_are_apart(store: &Store) {
    let a = web_store(store, "org2_a", &MASTER_KEY);
    let b = web_store(store, "org2_b", &MASTER_KEY);
    let address = "15550009999@s.whatsapp.net";
    a.put_session(address, b"a's session").await.expect("put");
    b.put_session(address, b"b's session").await.expect("put");
    a.store_prekey(1, b"a prekey", false).await.expect("prekey");
    a.create().await.expect("create");

    let got = a.get_session(address).await.expect("get");
    assert_eq!(got.as_deref(), Some(&b"a's session"[..]));
    let got = b.get_session(address).await.expect("get");
    assert_eq!(got.as_deref(), Some(&b"b's session"[..]));
    assert_eq!(b.load_prekey(1).await.expect("prekey"), None);
    assert_eq!(b.get_max_prekey_id().await.expect("max"), 0);
    assert!(!b.exists().await.expect("exists"), "b has no device");

    // A logout forgets a's state, and only a's.
    let removed = store
        .web_state()
        .delete(&SessionId::from_trusted("org2_a"))
        .await
        .expect("delete_web_state");
    assert_eq!(removed, 3);
    assert!(!a.has_session(address).await.expect("has"));
    assert!(!a.exists().await.expect("exists"));
    assert!(a.load().await.expect("load").is_none());
    assert_eq!(a.load_prekey(1).await.expect("prekey"), None);
    assert!(b.has_session(address).await.expect("has"));
    assert!(b.get_sender_key("x").await.expect("get").is_none());
    let first = web_store(store, "org1_default", &MASTER_KEY);
    assert!(first
        .exists()
        .await
        .expect("the story's session is untouched"));
}

async fn rows_cannot_be_swapped(store: &Store) {
    let session = SessionId::from_trusted("org3_swap");
    let s = web_store(store, session.as_str(), &MASTER_KEY);
    s.put_session("1@s.whatsapp.net", b"one")
        .await
        .expect("put");
    s.put_session("2@s.whatsapp.net", b"two")
        .await
        .expect("put");

    // Copy one sealed value over another key of the same session, and into another session.
    let row = store
        .web_state()
        .get(&session, "session", "1@s.whatsapp.net")
        .await
        .expect("raw get")
        .expect("row");
    let moved = wasl_store::WebStateRow {
        key: "2@s.whatsapp.net".to_owned(),
        ..row.clone()
    };
    store
        .web_state()
        .apply(&session, &[WebStateWrite::Put(moved)])
        .await
        .expect("raw put");
    assert!(
        s.get_session("2@s.whatsapp.net").await.is_err(),
        "moved key"
    );
    let other = SessionId::from_trusted("org3_other");
    store
        .web_state()
        .apply(&other, &[WebStateWrite::Put(row)])
        .await
        .expect("raw put");
    let o = web_store(store, other.as_str(), &MASTER_KEY);
    assert!(
        o.get_session("1@s.whatsapp.net").await.is_err(),
        "moved session"
    );

    // The right row still opens, but not under another master key.
    assert!(s.get_session("1@s.whatsapp.net").await.is_ok());
    let wrong = web_store(store, session.as_str(), &[9; 32]);
    assert!(
        wrong.get_session("1@s.whatsapp.net").await.is_err(),
        "wrong key"
    );
}

async fn nothing_in_clear(db: &TestDb, store: &Store) {
    let s = web_store(store, "org4_plain", &MASTER_KEY);
    s.put_identity("1@s.whatsapp.net", PLAINTEXT_KEY)
        .await
        .expect("identity");
    s.put_session("1@s.whatsapp.net", PLAINTEXT_SESSION)
        .await
        .expect("session");
    assert_eq!(
        s.load_identity("1@s.whatsapp.net").await.expect("load"),
        Some(PLAINTEXT_KEY)
    );

    let values = db.raw_values().await;
    assert!(values.len() > 20, "the story stored values");
    for value in &values {
        assert!(!contains(value, &PLAINTEXT_KEY), "plaintext key in a value");
        assert!(
            !contains(value, PLAINTEXT_SESSION),
            "plaintext session in a value"
        );
        let push_name = conformance::device::PUSH_NAME.as_bytes();
        assert!(!contains(value, push_name), "device in clear in a value");
        assert_eq!(value[0], 1, "every value is sealed (version byte)");
    }
}
