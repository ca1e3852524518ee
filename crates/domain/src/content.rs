//! What an organization keeps to reuse: media files (for templates, quick replies, auto-replies
//! and, later, broadcasts) and quick replies, the canned answers of its agents (SPEC §13).

use crate::{OrgId, ParseError, UserId};

/// A file uploaded once and sent many times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaItem {
    pub id: String,
    pub organization_id: OrgId,
    /// image, video, audio or document: what its bytes are.
    pub kind: String,
    pub mime_type: String,
    pub filename: Option<String>,
    pub size: i64,
    /// Where the file is kept, relative to the media directory.
    pub path: String,
    pub created_by: Option<UserId>,
    pub created_at: i64,
}

/// Who sees a quick reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Everyone in the organization (owners and admins write these).
    Organization,
    /// Only the person who wrote it.
    Personal,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Organization => "organization",
            Visibility::Personal => "personal",
        }
    }

    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        match value.trim() {
            "organization" => Ok(Visibility::Organization),
            "personal" => Ok(Visibility::Personal),
            _ => Err(ParseError::new(field, "must be organization or personal")),
        }
    }
}

pub const MOST_SHORT_CODE_CHARS: usize = 32;
pub const MOST_QUICK_REPLY_CHARS: usize = 4096;

/// What an agent types after `/` to find a quick reply: letters (any script), digits, `_`
/// and `-`, without spaces. Kept as typed; compared folded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortCode(String);

impl ShortCode {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        let value = value.trim().trim_start_matches('/');
        let ok = !value.is_empty()
            && value.chars().count() <= MOST_SHORT_CODE_CHARS
            && value
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-');
        if ok {
            Ok(ShortCode(value.to_owned()))
        } else {
            Err(ParseError::coded(
                field,
                "invalid_short_code",
                format!("1 to {MOST_SHORT_CODE_CHARS} letters, digits, _ or - (no spaces)"),
            ))
        }
    }

    pub fn from_trusted(value: impl Into<String>) -> Self {
        ShortCode(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A canned answer an agent inserts in the composer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuickReply {
    pub id: String,
    pub organization_id: OrgId,
    pub short_code: ShortCode,
    pub content: String,
    /// A file of the media library sent with it.
    pub media_id: Option<String>,
    pub visibility: Visibility,
    /// Who wrote it (the one person who sees a personal one).
    pub owner_id: Option<UserId>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_codes_are_single_words_in_any_script() {
        assert_eq!(
            ShortCode::parse("shortCode", "/شكرا").map(|c| c.0),
            Ok("شكرا".to_owned())
        );
        assert!(ShortCode::parse("shortCode", "hours_2").is_ok());
        for bad in ["", "/", "two words", "a.b", &"x".repeat(33)] {
            assert!(ShortCode::parse("shortCode", bad).is_err(), "{bad}");
        }
    }
}
