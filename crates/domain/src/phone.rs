use serde::{Deserialize, Serialize};

use crate::ParseError;

/// A phone number in international form, digits only (`966501234567`): what WhatsApp calls
/// the user part of a JID. People write numbers with `+`, spaces, dashes and brackets; all of
/// that is accepted and removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        let trimmed = value.trim();
        let without_plus = trimmed.strip_prefix('+').unwrap_or(trimmed);
        // Arabic-Indic and Persian digits are common in Arabic input; WhatsApp wants ASCII.
        let mut digits = String::with_capacity(without_plus.len());
        for c in without_plus.chars() {
            match c {
                '0'..='9' => digits.push(c),
                '\u{0660}'..='\u{0669}' => {
                    digits.push(char::from(b'0' + (c as u32 - 0x0660) as u8))
                }
                '\u{06F0}'..='\u{06F9}' => {
                    digits.push(char::from(b'0' + (c as u32 - 0x06F0) as u8))
                }
                ' ' | '-' | '(' | ')' | '.' => {}
                _ => {
                    return Err(ParseError::new(
                        field,
                        "must contain only digits, an optional +, spaces and dashes",
                    ))
                }
            }
        }
        if !(8..=15).contains(&digits.len()) {
            return Err(ParseError::new(field, "must have 8 to 15 digits"));
        }
        Ok(Self(digits))
    }

    pub fn from_trusted(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalized() {
        let parse = |v: &str| PhoneNumber::parse("to", v).map(|p| p.as_str().to_owned());
        assert_eq!(parse("+966 50-123-4567"), Ok("966501234567".into()));
        assert_eq!(parse("(20) 100 123 4567"), Ok("201001234567".into()));
        assert_eq!(parse("٩٦٦٥٠١٢٣٤٥٦٧"), Ok("966501234567".into()));
        for bad in [
            "",
            "1234567",
            "1234567890123456",
            "+966abc1234",
            "++966501234567",
            "96650123456@s.whatsapp.net",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
