use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::assert_error;
use crate::on_both_databases;

on_both_databases! {
    async fn register_login_and_me(app: TestApp) {
        let (status, body) = app
            .call(Method::POST, "/api/v1/auth/register", None, Some(json!({
                "organizationName": "متجر الورد", "name": "سارة", "email": "Sara@Example.com",
                "password": "correct horse battery"})))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["success"], json!(true));
        assert_eq!(body["message"], json!("تم إنشاء الحساب بنجاح"));
        assert_eq!(body["data"]["user"]["role"], json!("owner"));
        assert_eq!(body["data"]["user"]["email"], json!("sara@example.com"));
        assert_eq!(body["data"]["organization"]["plan"], json!("free"));
        assert_eq!(body["data"]["organization"]["sessionLimit"], json!(1));
        assert!(body["data"]["user"].get("passwordHash").is_none());

        let (status, login) = app.login("sara@example.com", "correct horse battery").await;
        assert_eq!(status, StatusCode::OK, "{login}");
        let token = login["data"]["token"].as_str().expect("token");

        let (status, me) = app.get("/api/v1/auth/me", token).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["data"]["user"]["name"], json!("سارة"));
        assert_eq!(me["data"]["organization"]["name"], json!("متجر الورد"));
        assert!(me["data"]["user"]["lastLoginAt"].is_string(), "sign-in is recorded: {me}");

        let (_, me_en) = app.call_lang(Method::GET, "/api/v1/auth/me", Some(token), None, Some("en-US,en;q=0.9")).await;
        assert_eq!(me_en["message"], json!("Done"));
        assert_eq!(me["message"], json!("تمت العملية بنجاح"));
    }

    async fn registration_is_validated(app: TestApp) {
        app.register("taken@example.com").await;
        let again = app
            .call(Method::POST, "/api/v1/auth/register", None, Some(json!({
                "organizationName": "أخرى", "name": "x", "email": "TAKEN@example.com", "password": "long enough pw"})))
            .await;
        assert_error(&again, StatusCode::CONFLICT, "EMAIL_TAKEN");

        let bad = app
            .call(Method::POST, "/api/v1/auth/register", None, Some(json!({
                "organizationName": " ", "name": "x", "email": "not-an-email", "password": "short"})))
            .await;
        assert_error(&bad, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let fields: Vec<&str> = bad.1["error"]["details"]["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["field"].as_str())
            .collect();
        assert_eq!(fields, ["organizationName", "email", "password"], "every bad field is named");
    }

    async fn wrong_credentials_and_tokens_answer_401(app: TestApp) {
        let owner = app.register("owner@example.com").await;
        assert_error(&app.login("owner@example.com", "wrong password").await, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
        assert_error(&app.login("nobody@example.com", "whatever pw").await, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");

        let none = app.call(Method::GET, "/api/v1/auth/me", None, None).await;
        assert_error(&none, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        assert_eq!(none.1["message"], json!("يجب تسجيل الدخول أولاً"));
        assert_error(&app.get("/api/v1/auth/me", "garbage").await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        assert_error(&app.get("/api/v1/auth/me", "wasl_not-a-real-key").await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");

        // A token with a changed payload fails its signature.
        let mut parts: Vec<&str> = owner.token.split('.').collect();
        let forged_payload = "eyJzdWIiOiJ4Iiwib3JnIjoieSIsImlhdCI6MCwiZXhwIjo5OTk5OTk5OTk5fQ";
        parts[1] = forged_payload;
        assert_error(&app.get("/api/v1/auth/me", &parts.join(".")).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");

        let res = app
            .client
            .get(app.url("/api/v1/auth/me"))
            .header("authorization", format!("Basic {}", owner.token))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }

    async fn repeated_failed_logins_answer_429(app: TestApp) {
        app.register("target@example.com").await;
        for _ in 0..5 {
            assert_error(&app.login("target@example.com", "wrong password").await, StatusCode::UNAUTHORIZED, "INVALID_CREDENTIALS");
        }
        let res = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"email": "target@example.com", "password": "correct horse battery"}))
            .send()
            .await
            .expect("sent");
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "blocked even with the right password");
        let retry: u64 = res.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
        assert!(retry > 0 && retry <= 15 * 60);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["error"]["code"], json!("RATE_LIMITED"));

        // Per address: many accounts guessed from one address are stopped too.
        for i in 0..15 {
            let _ = app.login(&format!("guess{i}@example.com"), "wrong password").await;
        }
        assert_error(&app.login("fresh@example.com", "any password").await, StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED");
    }

    async fn disabled_users_cannot_sign_in_and_lose_their_tokens(app: TestApp) {
        let owner = app.register("boss@example.com").await;
        let agent = app.add_user(&owner, "agent@example.com", "agent").await;
        assert_eq!(app.get("/api/v1/auth/me", &agent.token).await.0, StatusCode::OK);
        let (status, body) = app.put(&format!("/api/v1/users/{}", agent.user_id), &owner.token, json!({"isActive": false})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_error(&app.get("/api/v1/auth/me", &agent.token).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        assert_error(&app.login("agent@example.com", "agent password").await, StatusCode::FORBIDDEN, "ACCOUNT_DISABLED");
    }
}
