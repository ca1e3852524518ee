use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::assert_error;
use crate::on_both_databases;

on_both_databases! {
    async fn owners_manage_users_and_agents_cannot(app: TestApp) {
        let owner = app.register("owner@acme.sa").await;
        let (status, body) = app
            .post("/api/v1/users", &owner.token, json!({
                "name": "ليلى", "email": "layla@acme.sa", "password": "agent password",
                "role": "agent", "skills": ["Sales", "sales", "arabic"], "maxChats": 5}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["data"]["user"]["skills"], json!(["sales", "arabic"]));
        assert_eq!(body["data"]["user"]["maxChats"], json!(5));
        let layla = body["data"]["user"]["id"].as_str().expect("id").to_owned();

        let (status, login) = app.login("layla@acme.sa", "agent password").await;
        assert_eq!(status, StatusCode::OK);
        let agent_token = login["data"]["token"].as_str().expect("token");
        assert_error(&app.get("/api/v1/users", agent_token).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(
            &app.post("/api/v1/users", agent_token, json!({"name": "x", "email": "x@acme.sa", "password": "password12"})).await,
            StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&app.put(&format!("/api/v1/users/{layla}"), agent_token, json!({"role": "owner"})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(&app.delete(&format!("/api/v1/users/{}", owner.user_id), agent_token).await, StatusCode::FORBIDDEN, "FORBIDDEN");

        let (status, body) = app
            .put(&format!("/api/v1/users/{layla}"), &owner.token, json!({"name": "ليلى أحمد", "role": "admin", "maxChats": null}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["user"]["role"], json!("admin"));
        assert_eq!(body["data"]["user"]["maxChats"], json!(null));
        assert_eq!(body["data"]["user"]["skills"], json!(["sales", "arabic"]), "untouched fields stay");

        let (status, body) = app.get(&format!("/api/v1/users/{layla}"), &owner.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["data"]["user"]["name"], json!("ليلى أحمد"));

        // The demoted token now carries the admin role from the database.
        assert_eq!(app.get("/api/v1/users", agent_token).await.0, StatusCode::OK);
        // An admin cannot act on owners or make owners.
        assert_error(&app.put(&format!("/api/v1/users/{}", owner.user_id), agent_token, json!({"name": "x"})).await, StatusCode::FORBIDDEN, "FORBIDDEN");
        assert_error(
            &app.post("/api/v1/users", agent_token, json!({"name": "x", "email": "y@acme.sa", "password": "password12", "role": "owner"})).await,
            StatusCode::FORBIDDEN, "FORBIDDEN");

        let (status, _) = app.delete(&format!("/api/v1/users/{layla}"), &owner.token).await;
        assert_eq!(status, StatusCode::OK);
        assert_error(&app.get("/api/v1/users", agent_token).await, StatusCode::UNAUTHORIZED, "INVALID_TOKEN");
        assert_error(&app.get(&format!("/api/v1/users/{layla}"), &owner.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
    }

    async fn another_organizations_users_are_404(app: TestApp) {
        let first = app.register("first@one.sa").await;
        let second = app.register("second@two.sa").await;
        let path = format!("/api/v1/users/{}", first.user_id);
        assert_error(&app.get(&path, &second.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.put(&path, &second.token, json!({"name": "hijacked"})).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        assert_error(&app.delete(&path, &second.token).await, StatusCode::NOT_FOUND, "NOT_FOUND");
        let (_, list) = app.get("/api/v1/users", &second.token).await;
        assert_eq!(list["data"]["pagination"]["total"], json!(1));
        assert_eq!(list["data"]["users"][0]["id"], json!(second.user_id));
        let (_, me) = app.get("/api/v1/auth/me", &first.token).await;
        assert_eq!(me["data"]["user"]["name"], json!("سارة"), "untouched");
    }

    async fn the_last_owner_stays_and_nobody_deletes_themselves(app: TestApp) {
        let owner = app.register("solo@acme.sa").await;
        let me = format!("/api/v1/users/{}", owner.user_id);
        assert_error(&app.delete(&me, &owner.token).await, StatusCode::CONFLICT, "CANNOT_DELETE_SELF");
        assert_error(&app.put(&me, &owner.token, json!({"role": "admin"})).await, StatusCode::CONFLICT, "LAST_OWNER");
        assert_error(&app.put(&me, &owner.token, json!({"isActive": false})).await, StatusCode::CONFLICT, "LAST_OWNER");
        let second = app.add_user(&owner, "co-owner@acme.sa", "owner").await;
        let (status, body) = app.put(&me, &second.token, json!({"role": "admin"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_error(&app.put(&format!("/api/v1/users/{}", second.user_id), &second.token, json!({"role": "agent"})).await, StatusCode::CONFLICT, "LAST_OWNER");
        assert_error(&app.post("/api/v1/users", &second.token, json!({"name": "x", "email": "solo@acme.sa", "password": "password12"})).await, StatusCode::CONFLICT, "EMAIL_TAKEN");
    }

    async fn users_are_paged(app: TestApp) {
        let owner = app.register("pages@acme.sa").await;
        for i in 0..4 {
            app.post("/api/v1/users", &owner.token, json!({"name": format!("agent {i}"), "email": format!("a{i}@acme.sa"), "password": "password12"})).await;
        }
        let (status, body) = app.get("/api/v1/users?page=2&limit=2", &owner.token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["pagination"], json!({"page": 2, "limit": 2, "total": 5, "pages": 3}));
        let names: Vec<&str> = body["data"]["users"].as_array().expect("users").iter().filter_map(|u| u["name"].as_str()).collect();
        assert_eq!(names, ["agent 1", "agent 2"]);
        let (_, body) = app.get("/api/v1/users", &owner.token).await;
        assert_eq!(body["data"]["pagination"]["limit"], json!(50));
        for bad in ["limit=0", "limit=101", "page=0", "page=abc", "limit=-1"] {
            assert_error(&app.get(&format!("/api/v1/users?{bad}"), &owner.token).await, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        }
    }
}
