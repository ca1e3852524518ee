//! A SQLite store with an organization and a connected sandbox session, for the store's tests.

use wasl_domain::{
    Email, EngineKind, NewUser, OrgId, Organization, PersonName, Plan, Role, Session, SessionId,
    SessionName, SessionStatus, UserId,
};
use wasl_store::{Store, StoreOptions};

/// The session of a new organization; the data dir is removed by the caller.
pub fn session(org: &OrgId, name: &str) -> Session {
    let name = SessionName::parse(name).expect("name");
    Session {
        id: SessionId::new(org, &name),
        organization_id: org.clone(),
        name,
        engine: EngineKind::Sandbox,
        phone_number: Some("966500000001".into()),
        status: SessionStatus::Connected,
        last_disconnect_reason: None,
        last_connected: None,
        last_disconnected: None,
        connection_attempts: 0,
        is_active: true,
        created_at: 1,
        updated_at: 1,
    }
}

pub async fn store_with_session() -> (Store, OrgId, SessionId, std::path::PathBuf) {
    store_with_session_opened(StoreOptions::default()).await
}

pub async fn store_with_session_opened(
    options: StoreOptions,
) -> (Store, OrgId, SessionId, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("wasl-store-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("wasl.db").display());
    let store = Store::open_with(&url, options).await.expect("open");
    let org = OrgId::from_trusted(uuid::Uuid::now_v7().to_string());
    let organization = Organization {
        id: org.clone(),
        name: PersonName::from_trusted("متجر"),
        plan: Plan::Free,
        default_country: None,
        timezone: wasl_domain::TimeZone::DEFAULT,
        default_language: wasl_domain::Lang::Ar,
        opt_out_words: Default::default(),
        created_at: 1,
    };
    let owner = NewUser {
        id: UserId::from_trusted(uuid::Uuid::now_v7().to_string()),
        organization_id: org.clone(),
        name: PersonName::from_trusted("سارة"),
        email: Email::from_trusted("receipts@acme.sa"),
        password_hash: "not a real hash".into(),
        role: Role::Owner,
        skills: Vec::new(),
        max_chats: None,
        created_at: 1,
    };
    store
        .organizations()
        .create(&organization, &owner)
        .await
        .expect("organization");
    let session = session(&org, "default");
    store.sessions().insert(&session).await.expect("session");
    (store, org, session.id, dir)
}
