//! The web engine end to end, against `wasl-wa-peer`: a local WhatsApp Web server speaking the
//! real protocol (Noise handshakes with its own certificate chain, binary nodes, pairing refs).
//! A web session shows the QR code of the refs the server sent, a simulated phone scans it
//! (checking the ref, the keys and the companion's signature), and the session logs in and is
//! connected as the phone's number.

use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use wasl_wa_peer::{Pattern, Peer};

use crate::helpers::{spawn_app_with, Account, Db, TestApp};

const PHONE: &str = "966501112233";

/// The text of the QR code in `GET …/qr`'s PNG, read back as a phone's camera would.
fn read_qr(data_url: &str) -> String {
    let png = base64::engine::general_purpose::STANDARD
        .decode(
            data_url
                .strip_prefix("data:image/png;base64,")
                .expect("a PNG data URL"),
        )
        .expect("base64");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let channels = info.color_type.samples();
    let (width, height) = (info.width as usize, info.height as usize);
    let luma = |x: usize, y: usize| pixels[(y * width + x) * channels];
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, luma);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    let (_, text) = grids[0].decode().expect("a readable QR code");
    text
}

/// Waits for the session's QR code and returns its text.
async fn wait_for_qr(app: &TestApp, owner: &Account, name: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = app
            .get(
                &format!("/api/v1/whatsapp/sessions/{name}/qr"),
                &owner.token,
            )
            .await;
        if status == StatusCode::OK {
            return read_qr(body["data"]["qrCode"].as_str().expect("qrCode"));
        }
        assert!(
            Instant::now() < deadline,
            "no QR code came: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_for_status(app: &TestApp, owner: &Account, name: &str, status: &str) -> Value {
    // A companion's first login after linking waits up to 10 s for the phone's app-state keys
    // (which this peer does not send) before it reports itself connected.
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        let (code, body) = app
            .get(
                &format!("/api/v1/whatsapp/sessions/{name}/status"),
                &owner.token,
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let session = body["data"]["session"].clone();
        if session["status"] == json!(status) {
            return session;
        }
        assert!(
            Instant::now() < deadline,
            "session {name} never became {status}; last: {session}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn linked_by_qr(db: Db) {
    let peer = Peer::start().await.expect("the peer");
    let app = spawn_app_with(db, &[("WASL_WEB_SOCKET_URL", &peer.url())]).await;
    let owner = app.register("web-link@acme.sa").await;
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sessions",
            &owner.token,
            json!({"sessionName": "shop", "engine": "web"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let qr = wait_for_qr(&app, &owner, "shop").await;
    assert!(
        qr.starts_with("2@"),
        "a WhatsApp Web pairing ref first: {qr}"
    );
    let session = wait_for_status(&app, &owner, "shop", "qr").await;
    assert_eq!(session["engine"], json!("web"), "{session}");

    let jid = peer
        .scan(&qr, PHONE)
        .await
        .expect("the phone links the device");
    assert!(jid.starts_with(&format!("{PHONE}:")), "{jid}");

    let session = wait_for_status(&app, &owner, "shop", "connected").await;
    assert_eq!(session["phoneNumber"], json!(PHONE), "{session}");
    assert!(peer.is_online(&jid), "logged in on the peer");
    let handshakes = peer.handshakes();
    assert_eq!(handshakes[0].pattern, Pattern::Xx, "{handshakes:?}");
    assert_eq!(
        handshakes[0].device, None,
        "a new device first: {handshakes:?}"
    );
    assert_eq!(
        handshakes.last().and_then(|h| h.device.clone()),
        Some(jid),
        "then the linked device logs in: {handshakes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_links_by_qr_through_the_protocol_peer_on_sqlite() {
    linked_by_qr(Db::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_session_links_by_qr_through_the_protocol_peer_on_postgres() {
    linked_by_qr(Db::Postgres).await;
}
