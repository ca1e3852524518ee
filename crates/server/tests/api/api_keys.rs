use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::assert_error;
use crate::on_both_databases;

on_both_databases! {
    async fn an_api_key_works_until_it_is_deleted(app: TestApp) {
        let owner = app.register("crm@example.com").await;
        let (status, body) = app.post("/api/v1/api-keys", &owner.token, json!({"name": "CRM"})).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let key = body["data"]["key"].as_str().expect("key shown once").to_owned();
        let id = body["data"]["apiKey"]["id"].as_str().expect("id").to_owned();
        assert!(key.starts_with("wasl_") && key.len() > 40);
        assert!(key.starts_with(body["data"]["apiKey"]["prefix"].as_str().expect("prefix")));
        assert_eq!(body["data"]["apiKey"]["role"], json!("admin"));

        let (status, me) = app.get("/api/v1/auth/me", &key).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["data"]["organization"]["id"], json!(owner.org_id));
        assert_eq!(me["data"]["apiKeyId"], json!(id));

        let (status, list) = app.get("/api/v1/api-keys", &owner.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["data"]["pagination"]["total"], json!(1));
        assert!(!list.to_string().contains(&key), "the key is never listed");
        assert!(list["data"]["apiKeys"][0]["lastUsedAt"].is_string(), "use is recorded: {list}");

        // A key acts as its organization's admin, but cannot mint more keys.
        assert_eq!(app.get("/api/v1/users", &key).await.0, StatusCode::OK);
        assert_error(&app.post("/api/v1/api-keys", &key, json!({"name": "more"})).await, StatusCode::FORBIDDEN, "FORBIDDEN");

        let (status, _) = app.delete(&format!("/api/v1/api-keys/{id}"), &owner.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&app.get("/api/v1/auth/me", &key).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        assert_error(&app.delete(&format!("/api/v1/api-keys/{id}"), &owner.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    async fn key_roles_and_tenancy_are_enforced(app: TestApp) {
        let owner = app.register("one@example.com").await;
        let agent = app.add_user(&owner, "agent1@example.com", "agent").await;
        let admin = app.add_user(&owner, "admin1@example.com", "admin").await;
        assert_error(&app.post("/api/v1/api-keys", &agent.token, json!({"name": "x"})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&app.get("/api/v1/api-keys", &agent.token).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&app.post("/api/v1/api-keys", &admin.token, json!({"name": "x", "role": "owner"})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&app.post("/api/v1/api-keys", &admin.token, json!({"name": "", "role": "king"})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");

        let (_, created) = app.post("/api/v1/api-keys", &owner.token, json!({"name": "agent key", "role": "agent"})).await;
        let agent_key = created["data"]["key"].as_str().expect("key");
        assert_error(&app.get("/api/v1/users", agent_key).await, StatusCode::FORBIDDEN, "FORBIDDEN");

        let other = app.register("two@example.com").await;
        let id = created["data"]["apiKey"]["id"].as_str().expect("id");
        assert_error(&app.delete(&format!("/api/v1/api-keys/{id}"), &other.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        let (_, list) = app.get("/api/v1/api-keys", &other.token).await;
        assert_eq!(list["data"]["apiKeys"], json!([]), "another organization sees none");
        assert_eq!(app.get("/api/v1/auth/me", agent_key).await.0, StatusCode::OK, "still works");
    }
}
