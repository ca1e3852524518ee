//! Secrets stay secret at rest and in the logs: after a real server (debug logging on) has
//! registered a user, refused a wrong password, issued and used an API key and a sign-in
//! token, created a webhook with its signing secret, and created a web session (whose device
//! keys — Noise, identity, signed pre-key, ADV secret — wasl keeps for it), none of them can be
//! found in the database or in anything the process printed, in any common encoding.

use std::sync::Arc;

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::json;
use sqlx::Row;
use wasl_domain::SessionId;
use whatsapp_rust::store::traits::DeviceStore;

use crate::server::{Db, Installation, MASTER_KEY_B64};

const PASSWORD: &str = "Qx7-correct-horse-battery-staple";
const WRONG_PASSWORD: &str = "Zr4-wrong-horse-battery-staple";

/// The forms a secret could leak in: as it is, hex (both cases), base64 (with and without
/// padding, standard and URL alphabets).
fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_vec(),
        hex.clone().into_bytes(),
        hex.to_uppercase().into_bytes(),
        STANDARD.encode(secret).into_bytes(),
        STANDARD_NO_PAD.encode(secret).into_bytes(),
        URL_SAFE.encode(secret).into_bytes(),
        URL_SAFE_NO_PAD.encode(secret).into_bytes(),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Everything the database holds, as bytes: the SQLite files, or every PostgreSQL table
/// rendered as text (binary columns come out as hex).
async fn database_bytes(install: &Installation, db: Db) -> Vec<u8> {
    match db {
        Db::Sqlite => {
            let mut all = Vec::new();
            for entry in std::fs::read_dir(&install.data_dir)
                .expect("data dir")
                .flatten()
            {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("wasl.db") {
                    all.extend(std::fs::read(entry.path()).unwrap_or_default());
                }
            }
            assert!(!all.is_empty(), "the SQLite files are there");
            all
        }
        Db::Postgres => {
            let pool = install.database().await;
            let tables: Vec<String> = sqlx::query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(&pool)
            .await
            .expect("tables")
            .iter()
            .map(|r| r.try_get::<String, _>(0).expect("name"))
            .collect();
            assert!(tables.len() > 10, "every table: {tables:?}");
            let mut all = Vec::new();
            for table in tables {
                let rows = sqlx::query(&format!("SELECT CAST(t AS TEXT) FROM {table} t"))
                    .fetch_all(&pool)
                    .await
                    .expect("rows");
                for row in rows {
                    all.extend(row.try_get::<String, _>(0).expect("row").into_bytes());
                    all.push(b'\n');
                }
            }
            pool.close().await;
            all
        }
    }
}

pub async fn story(db: Db) {
    // The web session connects to a port that refuses: its device is created all the same.
    let refusing = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        drop(listener);
        format!("ws://127.0.0.1:{port}/ws/chat")
    };
    let install = Installation::new(
        db,
        &[
            ("RUST_LOG", "debug"),
            ("WASL_WEB_SOCKET_URL", refusing.as_str()),
        ],
    )
    .await;
    let server = install.start().await;
    let (token, org) = server.enterprise_owner("secrets@acme.sa", PASSWORD).await;
    let (status, _) = server
        .post(
            "/api/v1/auth/login",
            "",
            json!({"email": "secrets@acme.sa", "password": WRONG_PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = server
        .post(
            "/api/v1/auth/login",
            "",
            json!({"email": "secrets@acme.sa", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let login_token = body["data"]["token"].as_str().expect("token").to_owned();

    let (status, body) = server
        .post("/api/v1/api-keys", &token, json!({"name": "crm"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let api_key = body["data"]["key"]
        .as_str()
        .expect("key shown once")
        .to_owned();
    let (status, _) = server.get("/api/v1/auth/me", &api_key).await;
    assert_eq!(status, StatusCode::OK, "the key works");

    let (status, body) = server
        .post(
            "/api/v1/webhooks",
            &token,
            json!({"url": "http://127.0.0.1:9/hook", "events": ["message.received"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let webhook_secret = body["data"]["secret"].as_str().expect("secret").to_owned();

    let (status, body) = server
        .post(
            "/api/v1/whatsapp/sessions",
            &token,
            json!({"sessionName": "phone", "engine": "web"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A first attempt has run (and failed) once the count of retries moves.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, body) = server
            .get("/api/v1/whatsapp/sessions/phone/status", &token)
            .await;
        if body["data"]["session"]["connectionAttempts"].as_i64() >= Some(1) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no attempt: {body}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    server.stop();

    // The device keys wasl keeps for the web session, opened the way wasl opens them.
    let store = wasl_store::Store::open(&install.database_url)
        .await
        .expect("open");
    let master: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(MASTER_KEY_B64)
        .expect("base64")
        .try_into()
        .expect("32 bytes");
    let web = wasl_engine_web::WebStore::new(
        store.clone(),
        Arc::new(wasl_store::cipher::Cipher::new(&master)),
        SessionId::from_trusted(format!("{org}_phone")),
    );
    let device = web
        .load()
        .await
        .expect("load")
        .expect("the web session has a device");
    store.close().await;
    let key_material: Vec<(&str, Vec<u8>)> = vec![
        (
            "noise private key",
            device.noise_key.private_key.serialize().to_vec(),
        ),
        (
            "identity private key",
            device.identity_key.private_key.serialize().to_vec(),
        ),
        (
            "signed pre-key",
            device.signed_pre_key.private_key.serialize().to_vec(),
        ),
        ("ADV secret", device.adv_secret_key.to_vec()),
    ];
    let texts: Vec<(&str, Vec<u8>)> = vec![
        ("password", PASSWORD.as_bytes().to_vec()),
        ("wrong password", WRONG_PASSWORD.as_bytes().to_vec()),
        ("API key", api_key.as_bytes().to_vec()),
        ("sign-in token", login_token.as_bytes().to_vec()),
        ("registration token", token.as_bytes().to_vec()),
        ("webhook secret", webhook_secret.as_bytes().to_vec()),
        ("master key", MASTER_KEY_B64.as_bytes().to_vec()),
        ("master key bytes", master.to_vec()),
    ];

    let database = database_bytes(&install, db).await;
    let logs = std::fs::read(install.log_path()).expect("the process's output");
    assert!(
        contains(&logs, b"\"level\":\"DEBUG\""),
        "debug logging was on, so the logs say everything they can"
    );
    // Each request's log line says who sent it.
    let request_lines: Vec<&[u8]> = logs
        .split(|b| *b == b'\n')
        .filter(|line| contains(line, b"\"message\":\"request\""))
        .collect();
    assert!(!request_lines.is_empty(), "requests are logged");
    assert!(
        request_lines
            .iter()
            .all(|line| contains(line, b"\"client\":\"127.0.0.1\"")),
        "every request line names the client address"
    );
    for (what, secret) in key_material.iter().chain(&texts) {
        for form in forms(secret) {
            assert!(
                !contains(&database, &form),
                "{db:?}: the {what} is in the database in clear"
            );
            assert!(!contains(&logs, &form), "{db:?}: the {what} is in the logs");
        }
    }
    // Tokens are stored nowhere; the webhook secret and device keys are stored sealed.
    assert!(
        contains(&database, org.as_bytes()),
        "the scan reads real data"
    );
    install.remove().await;
}
