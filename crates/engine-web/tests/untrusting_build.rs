//! What a build without `trust-test-peer` — the build of the release binary — does with the
//! local protocol peer, whose certificate chain is its own and not signed by WhatsApp: the
//! handshake is refused, the device never logs in, and the connection's end says why.
//!
//! The README's test command runs this file as its own step (`cargo test -p
//! wasl-engine-web --test untrusting_build`): within `cargo test --workspace` the end-to-end
//! suite turns the feature on for the whole build, and then this file is empty.
#![cfg(not(feature = "trust-test-peer"))]
// Tests fail loudly: a panic with its message is the failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use wasl_domain::SessionId;
use wasl_engine::{DisconnectReason, Engine, EngineEvent, SessionTarget};
use wasl_engine_web::{Cipher, WebConfig, WebEngine};
use wasl_store::Store;
use wasl_wa_peer::Peer;

#[tokio::test(flavor = "multi_thread")]
async fn the_release_build_refuses_a_server_whatsapp_did_not_sign() {
    let peer = Peer::start().await.expect("the peer");
    let path = std::env::temp_dir().join(format!("wasl-untrusting-{}.db", uuid::Uuid::now_v7()));
    let store = Store::open(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open the store");
    let engine = WebEngine::new(
        store.clone(),
        Arc::new(Cipher::new(b"wasl-test-master-key-32-bytes!!!")),
        WebConfig {
            socket_url: Some(peer.url()),
        },
    );
    let (events, mut received) = tokio::sync::mpsc::unbounded_channel();
    let target = SessionTarget {
        id: SessionId::from_trusted("org1_default"),
        phone_number: None,
    };
    let connection = engine.connect(&target, events).await.expect("an attempt");

    let reason = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match received.recv().await.expect("events until the end") {
                EngineEvent::Disconnected { reason } => break reason,
                EngineEvent::Qr { code } => panic!("a QR code from an untrusted server: {code}"),
                EngineEvent::Connected { phone_number } => {
                    panic!("connected to an untrusted server as {phone_number}")
                }
                _ => {}
            }
        }
    })
    .await
    .expect("the attempt ends");
    match &reason {
        DisconnectReason::Network(detail) => assert!(
            detail.contains("certificate chain is not one WhatsApp signed"),
            "the reason names the certificate: {detail}"
        ),
        other => panic!("a refused handshake, not {other:?}"),
    }
    // The client began a handshake and hung up after the server's hello: nothing was
    // registered, nothing logged in.
    tokio::time::timeout(Duration::from_secs(30), peer.an_unfinished_handshake())
        .await
        .expect("the client said hello and hung up");
    assert!(peer.handshakes().is_empty(), "{:?}", peer.handshakes());
    drop(connection);
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
