//! The values a person gives when they register or are invited: parsed once, trusted after.

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// A lower-cased e-mail address. Sign-in is by e-mail alone, so it is unique across wasl.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

/// Characters that take no room on screen: an e-mail holding one looks like another.
fn invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

impl Email {
    pub fn parse(value: &str) -> Result<Self, ParseError> {
        let err = |reason: &str| Err(ParseError::new("email", reason));
        if value.chars().any(invisible) {
            return err(
                "must not contain invisible characters (zero-width spaces, direction marks)",
            );
        }
        let value = Email::account_key(value);
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

    /// The form e-mails are compared in: trimmed, Unicode-normalized (NFKC: a full-width `ａ`
    /// is `a`, a decomposed `é` the composed one) and lower case. Also what sign-in attempts
    /// are counted by, valid address or not.
    pub fn account_key(value: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
        value.trim().nfkc().collect::<String>().to_lowercase()
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
        // Direction overrides and isolates can make a name read as another one beside it
        // (or reverse the text after it): dropped. Direction marks and joiners, which Arabic
        // and Persian names use, stay.
        let cleaned: String = value
            .chars()
            .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
            .collect();
        let value = cleaned.trim();
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
    /// Every role, lowest first.
    pub const ALL: &'static [Role] = &[Role::Agent, Role::Admin, Role::Owner];

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
        // Typed differently, the same address; with an invisible character, refused.
        assert_eq!(
            Email::parse("ＳＡＲＡ@example.com").map(|e| e.as_str().to_owned()),
            Ok("sara@example.com".to_owned())
        );
        assert_eq!(
            Email::parse("jose\u{301}@example.com").map(|e| e.as_str().to_owned()),
            Email::parse("jos\u{e9}@example.com").map(|e| e.as_str().to_owned())
        );
        for hidden in [
            "sara\u{200B}@example.com",
            "\u{FEFF}sara@example.com",
            "sa\u{202E}ra@example.com",
        ] {
            assert!(Email::parse(hidden).is_err(), "{hidden:?}");
        }
        assert_eq!(
            Email::account_key(" ＳＡＲＡ@Example.com"),
            "sara@example.com"
        );
    }

    #[test]
    fn direction_overrides_are_dropped_from_names() {
        assert_eq!(
            PersonName::parse("name", "\u{202E}ةراس\u{202C}").map(|n| n.as_str().to_owned()),
            Ok("ةراس".to_owned())
        );
        assert_eq!(
            PersonName::parse("name", "\u{2067}أحمد\u{2069} VIP").map(|n| n.as_str().to_owned()),
            Ok("أحمد VIP".to_owned())
        );
        assert!(
            PersonName::parse("name", "\u{202E}\u{202C}").is_err(),
            "nothing left"
        );
        assert_eq!(
            PersonName::parse("name", "علی\u{200C}رضا").map(|n| n.as_str().to_owned()),
            Ok("علی\u{200C}رضا".to_owned()),
            "a joiner stays"
        );
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
