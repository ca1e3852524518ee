//! The values a person gives when they register or are invited: parsed once, trusted after.

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// A lower-cased e-mail address. Sign-in is by e-mail alone, so it is unique across wasl.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let value = value.trim().to_lowercase();
        let err = |reason: &str| Err(ParseError::new("email", reason));
        if value.is_empty() || value.chars().count() > 254 {
            return err("must be 1 to 254 characters");
        }
        let Some((local, domain)) = value.split_once('@') else {
            return err("must look like name@example.com");
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty()
            || !domain_ok
            || domain.contains('@')
            || value.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return err("must look like name@example.com");
        }
        Ok(Self(value))
    }

    pub fn from_trusted(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's or an organization's display name: 1–100 characters once trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        let value = value.trim();
        let len = value.chars().count();
        if len == 0 || len > 100 {
            return Err(ParseError::new(field, "must be 1 to 100 characters"));
        }
        if value.chars().any(char::is_control) {
            return Err(ParseError::new(
                field,
                "must not contain control characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn from_trusted(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password: 8–128 characters. Never stored; only its argon2id hash is.
pub struct Password(String);

impl Password {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let len = value.chars().count();
        if !(8..=128).contains(&len) {
            return Err(ParseError::new("password", "must be 8 to 128 characters"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// What a person may do in their organization. Ordered: an owner can do all an admin can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Agent,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Agent => "agent",
        }
    }

    pub fn parse(value: &str) -> Result<Self, ParseError> {
        match value {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "agent" => Ok(Role::Agent),
            _ => Err(ParseError::new(
                "role",
                "must be one of owner, admin, agent",
            )),
        }
    }

    /// Owners and admins manage the organization's people, keys and settings.
    pub fn can_manage(self) -> bool {
        self >= Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            Email::parse("  Sara@Example.COM ").map(|e| e.as_str().to_owned()),
            Ok("sara@example.com".to_owned())
        );
        for bad in [
            "",
            "sara",
            "sara@",
            "@example.com",
            "sara@example",
            "a b@c.d",
            "a@b..c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_and_passwords_have_bounds() {
        assert!(PersonName::parse("name", "  ").is_err());
        assert!(PersonName::parse("name", &"ب".repeat(101)).is_err());
        assert_eq!(
            PersonName::parse("name", " سارة ").map(|n| n.as_str().to_owned()),
            Ok("سارة".to_owned())
        );
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("كلمة-سر-طويلة").is_ok());
        assert_eq!(
            format!("{:?}", Password::parse("secret-123").ok()),
            "Some(Password(<redacted>))"
        );
    }

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Owner.can_manage() && Role::Admin.can_manage());
        assert!(!Role::Agent.can_manage());
        assert!(Role::Owner > Role::Admin && Role::Admin > Role::Agent);
    }
}
