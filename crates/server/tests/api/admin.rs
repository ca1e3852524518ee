use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{assert_error, spawn_app_with, Db, ADMIN_TOKEN};
use crate::on_both_databases;

on_both_databases! {
    async fn the_platform_admin_sets_plans(app: TestApp) {
        let owner = app.register("plan@acme.sa").await;
        let path = format!("/api/v1/admin/organizations/{}/plan", owner.org_id);
        let (status, body) = app.put(&path, ADMIN_TOKEN, json!({"plan": "pro"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["organization"]["plan"], json!("pro"));
        assert_eq!(body["data"]["organization"]["sessionLimit"], json!(10));
        let (_, me) = app.get("/api/v1/auth/me", &owner.token).await;
        assert_eq!(me["data"]["organization"]["plan"], json!("pro"));

        let (_, body) = app.put(&path, ADMIN_TOKEN, json!({"plan": "enterprise"})).await;
        assert_eq!(body["data"]["organization"]["sessionLimit"], json!(null), "unlimited");

        assert_error(&app.put(&path, ADMIN_TOKEN, json!({"plan": "gold"})).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert_error(&app.put("/api/v1/admin/organizations/nope/plan", ADMIN_TOKEN, json!({"plan": "pro"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.put(&path, "wrong-admin-token-000000", json!({"plan": "pro"})).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        assert_error(&app.put(&path, &owner.token, json!({"plan": "pro"})).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        assert_error(&app.call(Method::PUT, &path, None, Some(json!({"plan": "pro"}))).await, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");

        let (status, list) = app.get("/api/v1/admin/organizations", ADMIN_TOKEN).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(list["data"]["pagination"]["total"], json!(1));
    }
}

#[tokio::test]
async fn admin_routes_are_closed_without_an_admin_token() {
    let app = spawn_app_with(Db::Sqlite, &[("WASL_ADMIN_TOKEN", "")]).await;
    let owner = app.register("closed@acme.sa").await;
    let path = format!("/api/v1/admin/organizations/{}/plan", owner.org_id);
    assert_error(
        &app.put(&path, ADMIN_TOKEN, json!({"plan": "pro"})).await,
        StatusCode::FORBIDDEN,
        "ADMIN_DISABLED",
    );
}
