//! Access that ends ends at once and everywhere: open sockets close the moment their user or
//! key is removed, disabled, demoted, signed out or given a new password; API keys never hold
//! more than their creator holds now; sign-in tokens end with a password change or signing
//! out; and sign-up and sign-in cannot be abused to flood or to lock a person out.

use std::time::Duration;

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as Frame;

use crate::helpers::{assert_error, spawn_app_with, Account, Db, TestApp};
use crate::messaging::linked;
use crate::on_both_databases;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn socket(app: &TestApp, token: &str) -> Socket {
    let url = format!("ws://{}/api/v1/events?token={token}", app.addr);
    tokio_tungstenite::connect_async(url)
        .await
        .expect("the socket opens")
        .0
}

/// Reads the socket until the server closes it; the close code, or a failure after 10 s.
async fn closed_with(ws: &mut Socket, who: &str) -> u16 {
    let read = async {
        while let Some(frame) = ws.next().await {
            match frame {
                Ok(Frame::Close(Some(close))) => return u16::from(close.code),
                Ok(Frame::Close(None)) | Err(_) => return 0,
                Ok(_) => {}
            }
        }
        0
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .unwrap_or_else(|_| panic!("{who}'s socket stayed open"))
}

/// The next event of `kind` on the socket, within 10 s.
async fn next_event(ws: &mut Socket, kind: &str) -> Value {
    let read = async {
        loop {
            match ws.next().await {
                Some(Ok(Frame::Text(text))) => {
                    let event: Value = serde_json::from_str(&text).expect("json");
                    if event["type"] == kind {
                        return event;
                    }
                }
                Some(Ok(Frame::Close(close))) => {
                    panic!("closed while waiting for {kind}: {close:?}")
                }
                Some(Ok(_)) => {}
                other => panic!("socket ended while waiting for {kind}: {other:?}"),
            }
        }
    };
    // Generous: on a busy machine (the whole suite at once) an event may take a while; it
    // must still come.
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .unwrap_or_else(|_| panic!("no {kind} event"))
}

async fn api_key(app: &TestApp, creator: &Account, role: &str) -> (String, String) {
    let (status, body) = app
        .post(
            "/api/v1/api-keys",
            &creator.token,
            json!({"name": "CRM", "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (
        body["data"]["key"].as_str().expect("key").to_owned(),
        body["data"]["apiKey"]["id"]
            .as_str()
            .expect("id")
            .to_owned(),
    )
}

/// A customer writes: an event every socket of the organization should hear.
async fn customer_writes(app: &TestApp, owner: &Account, text: &str) {
    let (status, body) = app
        .post(
            "/api/v1/whatsapp/sandbox/default/incoming",
            &owner.token,
            json!({"from": "966559300001", "type": "text", "text": text}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

const ACCESS_ENDED: u16 = 4401;

on_both_databases! {
    async fn open_sockets_close_the_moment_access_ends(app: TestApp) {
        let owner = linked(&app, "sockets@acme.sa", "966500000700").await;
        let agent = app.add_user(&owner, "agent@acme.sa", "agent").await;
        let admin = app.add_user(&owner, "admin@acme.sa", "admin").await;
        let (admin_key, _) = api_key(&app, &admin, "admin").await;
        let (owner_key, owner_key_id) = api_key(&app, &owner, "admin").await;
        let (_, second) = app.login("sockets@acme.sa", "correct horse battery").await;
        let second = Account::from_auth(&second);

        let mut by_owner = socket(&app, &owner.token).await;
        let mut by_second = socket(&app, &second.token).await;
        let mut by_agent = socket(&app, &agent.token).await;
        let mut by_admin_key = socket(&app, &admin_key).await;
        let mut by_owner_key = socket(&app, &owner_key).await;
        customer_writes(&app, &owner, "قبل").await;
        for ws in [&mut by_owner, &mut by_second, &mut by_agent, &mut by_admin_key, &mut by_owner_key] {
            next_event(ws, "message.received").await;
        }

        // A deleted user's socket ends.
        assert_eq!(app.delete(&format!("/api/v1/users/{}", agent.user_id), &owner.token).await.0, StatusCode::OK);
        assert_eq!(closed_with(&mut by_agent, "the deleted agent").await, ACCESS_ENDED);
        // A revoked key's socket ends.
        assert_eq!(app.delete(&format!("/api/v1/api-keys/{owner_key_id}"), &owner.token).await.0, StatusCode::OK);
        assert_eq!(closed_with(&mut by_owner_key, "the revoked key").await, ACCESS_ENDED);
        // A disabled creator's key ends with them.
        let (status, body) = app.put(&format!("/api/v1/users/{}", admin.user_id), &owner.token, json!({"isActive": false})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(closed_with(&mut by_admin_key, "the disabled admin's key").await, ACCESS_ENDED);
        // Signing out ends that token's socket, not the same person's other sign-in.
        assert_eq!(app.post("/api/v1/auth/logout", &second.token, json!({})).await.0, StatusCode::OK);
        assert_eq!(closed_with(&mut by_second, "the signed-out token").await, ACCESS_ENDED);
        customer_writes(&app, &owner, "بعد").await;
        let event = next_event(&mut by_owner, "message.received").await;
        assert_eq!(event["data"]["content"]["text"], "بعد", "the owner's own socket stays open");
        // A new password ends every earlier sign-in, sockets included.
        let (status, body) = app.put("/api/v1/auth/password", &owner.token,
            json!({"currentPassword": "correct horse battery", "newPassword": "a brand new passphrase"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(closed_with(&mut by_owner, "the owner after a password change").await, ACCESS_ENDED);
        let fresh = body["data"]["token"].as_str().expect("a new token");
        let mut again = socket(&app, fresh).await;
        customer_writes(&app, &Account { token: fresh.to_owned(), ..owner.clone() }, "من جديد").await;
        next_event(&mut again, "message.received").await;
    }

    async fn api_keys_never_hold_more_than_their_creator(app: TestApp) {
        let owner = app.register("keys-creator@acme.sa").await;
        let admin = app.add_user(&owner, "keymaker@acme.sa", "admin").await;
        let (key, key_id) = api_key(&app, &admin, "admin").await;
        let add_user = |n: u32| app.post("/api/v1/users", &key,
            json!({"name": "مستخدم", "email": format!("made-{n}@acme.sa"), "password": "a long password", "role": "agent"}));
        assert_eq!(add_user(1).await.0, StatusCode::CREATED, "an admin key manages people");

        // The creator is demoted: the key is an agent's now, in what it may do and as listed.
        let path = format!("/api/v1/users/{}", admin.user_id);
        assert_eq!(app.put(&path, &owner.token, json!({"role": "agent"})).await.0, StatusCode::OK);
        assert_error(&add_user(2).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        let (_, keys) = app.get("/api/v1/api-keys", &owner.token).await;
        let listed = keys["data"]["apiKeys"].as_array().expect("keys").iter().find(|k| k["id"] == key_id.as_str()).cloned().expect("listed");
        assert_eq!(listed["role"], "agent", "{listed}");

        // Disabled: the key stops; enabled again: it works again, still as an agent.
        assert_eq!(app.put(&path, &owner.token, json!({"isActive": false})).await.0, StatusCode::OK);
        assert_error(&app.get("/api/v1/auth/me", &key).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        assert_eq!(app.put(&path, &owner.token, json!({"isActive": true})).await.0, StatusCode::OK);
        assert_eq!(app.get("/api/v1/auth/me", &key).await.0, StatusCode::OK);
        assert_error(&add_user(3).await, StatusCode::FORBIDDEN, "FORBIDDEN");

        // Deleted: the key goes with them; nothing points at nobody.
        assert_eq!(app.delete(&path, &owner.token).await.0, StatusCode::OK);
        assert_error(&app.get("/api/v1/auth/me", &key).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        let (_, keys) = app.get("/api/v1/api-keys", &owner.token).await;
        assert_eq!(keys["data"]["apiKeys"], json!([]), "{keys}");
    }

    async fn sign_in_tokens_end_with_a_new_password_or_signing_out(app: TestApp) {
        let owner = app.register("tokens@acme.sa").await;
        let agent = app.add_user(&owner, "tokens-agent@acme.sa", "agent").await;
        let (_, other_device) = app.login("tokens@acme.sa", "correct horse battery").await;
        let other_device = Account::from_auth(&other_device);

        // The wrong current password changes nothing.
        assert_error(&app.put("/api/v1/auth/password", &owner.token,
            json!({"currentPassword": "not it at all", "newPassword": "a brand new passphrase"})).await,
            StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
        assert_eq!(app.get("/api/v1/auth/me", &other_device.token).await.0, StatusCode::OK);
        let (status, body) = app.put("/api/v1/auth/password", &owner.token,
            json!({"currentPassword": "correct horse battery", "newPassword": "a brand new passphrase"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let fresh = body["data"]["token"].as_str().expect("token").to_owned();
        for old in [&owner.token, &other_device.token] {
            assert_error(&app.get("/api/v1/auth/me", old).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        }
        assert_eq!(app.get("/api/v1/auth/me", &fresh).await.0, StatusCode::OK);
        assert_eq!(app.login("tokens@acme.sa", "a brand new passphrase").await.0, StatusCode::OK);

        // An admin setting someone's password ends that person's sign-ins.
        let (status, _) = app.put(&format!("/api/v1/users/{}", agent.user_id), &fresh, json!({"password": "set by the owner"})).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&app.get("/api/v1/auth/me", &agent.token).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");

        // Signing out ends the token; an API key is revoked by deleting it instead.
        let (status, body) = app.post("/api/v1/auth/logout", &fresh, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_error(&app.get("/api/v1/auth/me", &fresh).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        assert_error(&app.post("/api/v1/auth/logout", &fresh, json!({})).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        let (_, again) = app.login("tokens@acme.sa", "a brand new passphrase").await;
        let again = Account::from_auth(&again);
        let (key, _) = api_key(&app, &again, "admin").await;
        assert_error(&app.post("/api/v1/auth/logout", &key, json!({})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&app.put("/api/v1/auth/password", &key,
            json!({"currentPassword": "a brand new passphrase", "newPassword": "another passphrase"})).await,
            StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&app.put("/api/v1/auth/password", &again.token,
            json!({"currentPassword": "a brand new passphrase", "newPassword": "short"})).await,
            StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    }
}

/// A token signed with the server's secret but "issued" an hour from now was not issued by it.
#[tokio::test]
async fn a_token_issued_in_the_future_is_refused() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use base64::Engine as _;
    use hmac::{Hmac, Mac};
    const SECRET: &str = "a-test-jwt-secret-of-enough-length-0123456789";
    let app = spawn_app_with(Db::Sqlite, &[("WASL_JWT_SECRET", SECRET)]).await;
    let owner = app.register("future@acme.sa").await;
    let now = chrono_now_secs();
    let sign = |claims: Value| {
        let input = format!(
            "{}.{}",
            B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            B64.encode(claims.to_string())
        );
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
        mac.update(input.as_bytes());
        format!("{input}.{}", B64.encode(mac.finalize().into_bytes()))
    };
    let claims = |iat: i64| json!({"sub": owner.user_id, "org": owner.org_id, "iat": iat, "exp": now + 7200, "jti": format!("forged-{iat}"), "gen": 0});
    assert_eq!(
        app.get("/api/v1/auth/me", &sign(claims(now))).await.0,
        StatusCode::OK,
        "a well-formed token works"
    );
    assert_error(
        &app.get("/api/v1/auth/me", &sign(claims(now + 3600))).await,
        StatusCode::UNAUTHORIZED,
        "INVALID_TOKEN",
    );
}

fn chrono_now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Sends `request` as if from `address` (wasl trusts `X-Forwarded-For` in these tests).
async fn from(app: &TestApp, address: &str, path: &str, body: Value) -> (StatusCode, Value) {
    let res = app
        .client
        .request(Method::POST, app.url(path))
        .header("x-forwarded-for", address)
        .json(&body)
        .send()
        .await
        .expect("sent");
    let status = res.status();
    (status, res.json().await.expect("json"))
}

#[tokio::test]
async fn sign_ups_are_limited_per_address_and_nobody_is_locked_out_from_elsewhere() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            ("WASL_TRUST_FORWARDED_FOR", "true"),
            ("WASL_REGISTRATIONS_PER_HOUR", "3"),
        ],
    )
    .await;
    let register = |email: String| json!({"organizationName": "متجر", "name": "سارة", "email": email, "password": "correct horse battery"});
    for n in 0..3 {
        let (status, body) = from(
            &app,
            "198.51.100.1",
            "/api/v1/auth/register",
            register(format!("flood-{n}@acme.sa")),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let refused = from(
        &app,
        "198.51.100.1",
        "/api/v1/auth/register",
        register("flood-9@acme.sa".into()),
    )
    .await;
    assert_error(&refused, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    let (status, _) = from(
        &app,
        "198.51.100.2",
        "/api/v1/auth/register",
        register("elsewhere@acme.sa".into()),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "another address may still register"
    );

    // Five wrong passwords from five addresses do not lock the owner out.
    let login = |password: &str| json!({"email": "elsewhere@acme.sa", "password": password});
    for n in 1..=5 {
        let wrong = from(
            &app,
            &format!("203.0.113.{n}"),
            "/api/v1/auth/login",
            login("a wrong guess"),
        )
        .await;
        assert_error(&wrong, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    }
    let (status, body) = from(
        &app,
        "192.0.2.50",
        "/api/v1/auth/login",
        login("correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Five from one address lock that address out of this account, not the owner's own.
    for _ in 0..5 {
        let wrong = from(
            &app,
            "203.0.113.66",
            "/api/v1/auth/login",
            login("a wrong guess"),
        )
        .await;
        assert_error(&wrong, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
    }
    let locked = from(
        &app,
        "203.0.113.66",
        "/api/v1/auth/login",
        login("correct horse battery"),
    )
    .await;
    assert_error(&locked, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    let (status, body) = from(
        &app,
        "192.0.2.50",
        "/api/v1/auth/login",
        login("correct horse battery"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "the owner's own address: {body}");

    // An unknown account answers exactly like a wrong password.
    let (wrong_status, wrong) = from(
        &app,
        "192.0.2.77",
        "/api/v1/auth/login",
        login("a wrong guess"),
    )
    .await;
    let (unknown_status, unknown) = from(
        &app,
        "192.0.2.77",
        "/api/v1/auth/login",
        json!({"email": "nobody@acme.sa", "password": "a wrong guess"}),
    )
    .await;
    assert_eq!((wrong_status, &wrong), (unknown_status, &unknown));
}
