//! WhatsApp sessions: one linked number of an organization (SPEC §4).

use serde::{Deserialize, Serialize};

use crate::{OrgId, ParseError};

/// A session's name within its organization: 1–32 of `a-z 0-9 _ -` ("default", "sales").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionName(String);

impl SessionName {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let ok = (1..=32).contains(&value.len())
            && value
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(ParseError::new(
                "sessionName",
                "must be 1 to 32 characters of a-z, 0-9, _ and -",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SessionName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `<organizationId>_<sessionName>`: unique across wasl, stable for the session's life.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SessionId(String);

impl SessionId {
    pub fn new(org: &OrgId, name: &SessionName) -> Self {
        Self(format!("{org}_{name}"))
    }

    pub fn from_trusted(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which implementation of WhatsApp a session runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// WhatsApp Web multi-device, linked by QR or pairing code.
    Web,
    /// The built-in simulated WhatsApp, to try wasl without a phone.
    Sandbox,
}

impl EngineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EngineKind::Web => "web",
            EngineKind::Sandbox => "sandbox",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "web" => Ok(EngineKind::Web),
            "sandbox" => Ok(EngineKind::Sandbox),
            _ => Err(ParseError::new("engine", "must be web or sandbox")),
        }
    }
}

/// Where a session stands (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Connecting,
    Qr,
    Connected,
    Disconnected,
    Failed,
    LoggedOut,
}

impl SessionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Connecting => "connecting",
            SessionStatus::Qr => "qr",
            SessionStatus::Connected => "connected",
            SessionStatus::Disconnected => "disconnected",
            SessionStatus::Failed => "failed",
            SessionStatus::LoggedOut => "logged_out",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        [
            SessionStatus::Connecting,
            SessionStatus::Qr,
            SessionStatus::Connected,
            SessionStatus::Disconnected,
            SessionStatus::Failed,
            SessionStatus::LoggedOut,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
        .ok_or_else(|| ParseError::new("status", "unknown session status"))
    }
}

/// A session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub organization_id: OrgId,
    pub name: SessionName,
    pub engine: EngineKind,
    pub phone_number: Option<String>,
    pub status: SessionStatus,
    /// Why the last connection ended, when known ("logged out from the phone", …).
    pub last_disconnect_reason: Option<String>,
    pub last_connected: Option<i64>,
    pub last_disconnected: Option<i64>,
    /// Reconnection attempts made after unexpected disconnects.
    pub connection_attempts: i64,
    pub is_active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_follow_the_spec() {
        for good in ["default", "sales-2", "a", "support_team", &"x".repeat(32)] {
            assert!(SessionName::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "Sales", "with space", "مبيعات", &"x".repeat(33), "a/b"] {
            assert!(SessionName::parse(bad).is_err(), "{bad}");
        }
        let org = OrgId::from_trusted("0192-abc");
        let id = SessionId::new(&org, &SessionName::parse("default").expect("valid"));
        assert_eq!(id.as_str(), "0192-abc_default");
    }
}
