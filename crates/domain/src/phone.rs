//! Phone numbers: one canonical form (E.164 digits, `966501234567`, what WhatsApp calls the
//! user part of a JID) whichever way a person wrote the number, checked against the real
//! numbering plans (libphonenumber's metadata) rather than rules of our own.

use phonenumber::country::Id;
use phonenumber::metadata::DATABASE;
use serde::{Deserialize, Serialize};

use crate::ParseError;

/// The code of a field error about a phone number; the API answers such errors with
/// `INVALID_PHONE_NUMBER`.
pub const INVALID_PHONE_NUMBER: &str = "invalid_phone_number";

/// A phone number in international form, digits only (`966501234567`). People write numbers
/// with `+`, `00`, spaces, dashes and brackets, in Arabic-Indic digits, and in their country's
/// own form (`0551112233`); all of that becomes this one form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

/// A country of the numbering plans (ISO 3166-1 alpha-2, `SA`): the one an organization's
/// people mean when they write a number without its country code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Country([u8; 2]);

impl Country {
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        let code = value.trim().to_ascii_uppercase();
        let known = code.len() == 2
            && code.bytes().all(|b| b.is_ascii_uppercase())
            // Only a country with a numbering plan of its own can read a local number.
            && DATABASE.by_id(code.as_str()).is_some();
        if !known {
            return Err(ParseError::coded(
                field,
                "invalid_country",
                "must be a country's two-letter code (ISO 3166-1), such as SA, EG, AE or GB",
            ));
        }
        let b = code.as_bytes();
        Ok(Country([b[0], b[1]]))
    }

    /// Every country with a numbering plan of its own, by code, with its calling code
    /// (`SA`, 966): what an organization may choose from.
    pub fn all() -> Vec<(Country, u16)> {
        let mut all: Vec<(Country, u16)> = DATABASE
            .iter()
            .filter_map(|plan| {
                let id = plan.id().as_bytes();
                let geographic = id.len() == 2 && id.iter().all(u8::is_ascii_uppercase);
                geographic.then(|| (Country([id[0], id[1]]), plan.country_code()))
            })
            .collect();
        all.sort_by_key(|(country, _)| country.0);
        all
    }

    /// `SA`.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    fn id(&self) -> Option<Id> {
        self.as_str().parse().ok()
    }
}

impl std::fmt::Display for Country {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A number as written, reduced to its digits; whether it was written in international form
/// (`+` or `00`).
struct Written {
    digits: String,
    international: bool,
}

fn written(field: &'static str, value: &str) -> Result<Written, ParseError> {
    let trimmed = value.trim();
    let (plus, rest) = match trimmed.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    // Arabic-Indic and Persian digits are common in Arabic input; WhatsApp wants ASCII.
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '\u{0660}'..='\u{0669}' => digits.push(char::from(b'0' + (c as u32 - 0x0660) as u8)),
            '\u{06F0}'..='\u{06F9}' => digits.push(char::from(b'0' + (c as u32 - 0x06F0) as u8)),
            ' ' | '-' | '(' | ')' | '.' | '\u{00A0}' => {}
            _ => {
                return Err(ParseError::coded(
                    field,
                    INVALID_PHONE_NUMBER,
                    "must contain only digits, an optional +, spaces and dashes",
                ))
            }
        }
    }
    // `00` is how most of the world dials out, and how many people write the `+`.
    let (international, digits) = match digits.strip_prefix("00") {
        Some(rest) if !plus => (true, rest.to_owned()),
        _ => (plus, digits),
    };
    Ok(Written {
        digits,
        international,
    })
}

/// The number's E.164 digits when the numbering plans know it as a valid number.
fn valid(country: Option<Id>, text: &str) -> Option<String> {
    let number = phonenumber::parse(country, text).ok()?;
    if !phonenumber::is_valid(&number) {
        return None;
    }
    let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
    Some(e164.trim_start_matches('+').to_owned())
}

impl PhoneNumber {
    /// A number as WhatsApp gives it (a JID's user part) or as a linked account reports it:
    /// 8 to 15 digits, taken as they are. WhatsApp's word on who wrote is not second-guessed
    /// against numbering plans, which lag behind new number ranges.
    pub fn parse(field: &'static str, value: &str) -> Result<Self, ParseError> {
        let w = written(field, value)?;
        if !(8..=15).contains(&w.digits.len()) {
            return Err(ParseError::coded(
                field,
                INVALID_PHONE_NUMBER,
                "must have 8 to 15 digits",
            ));
        }
        Ok(Self(w.digits))
    }

    /// A number as a person wrote it: in international form (`+966 55 111 2233`,
    /// `00966551112233`, `966551112233`) or, with `country`, in that country's own form
    /// (`0551112233` in Saudi Arabia). Valid numbers only, by the numbering plans.
    pub fn parse_written(
        field: &'static str,
        value: &str,
        country: Option<Country>,
    ) -> Result<Self, ParseError> {
        let w = written(field, value)?;
        let refuse = |reason: String| Err(ParseError::coded(field, INVALID_PHONE_NUMBER, reason));
        if w.digits.len() < 4 {
            return refuse("is too short to be a phone number".into());
        }
        if w.digits.len() > 17 {
            return refuse("is too long to be a phone number".into());
        }
        let international = format!("+{}", w.digits);
        if w.international {
            return match valid(None, &international) {
                Some(e164) => Ok(Self(e164)),
                None => refuse(
                    "is not a valid number of any country: check the country code and the digits"
                        .into(),
                ),
            };
        }
        if let Some(country) = country {
            // The country's own form first (it reads a leading 0 as its trunk prefix), then
            // the number as international digits without the + (`966551112233`).
            if let Some(e164) =
                valid(country.id(), &w.digits).or_else(|| valid(None, &international))
            {
                return Ok(Self(e164));
            }
            return refuse(format!(
                "is not a valid number in {country}, nor with a country code"
            ));
        }
        match valid(None, &international) {
            Some(e164) => Ok(Self(e164)),
            None if w.digits.starts_with('0') => refuse(
                "has no country code: write it with + and the country code, or set the organization's default country"
                    .into(),
            ),
            None => refuse(
                "is not a valid number of any country: check the country code and the digits"
                    .into(),
            ),
        }
    }

    /// What a search for a number should look for in stored numbers: its E.164 digits when
    /// the text is a whole valid number (however written), else its digits without a
    /// leading trunk `0` (part of a local number). `None` when the text is not a number.
    pub fn search_digits(text: &str, country: Option<Country>) -> Option<String> {
        let w = written("search", text).ok()?;
        if w.digits.len() < 3 {
            return None;
        }
        if let Ok(number) = Self::parse_written("search", text, country) {
            return Some(number.0);
        }
        let local = w.digits.trim_start_matches('0');
        (!local.is_empty()).then(|| local.to_owned())
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
    fn numbers_from_whatsapp_are_normalized() {
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

    fn written_in(country: Option<&str>, v: &str) -> Result<String, ParseError> {
        let country = country.map(|c| Country::parse("defaultCountry", c).unwrap());
        PhoneNumber::parse_written("to", v, country).map(|p| p.as_str().to_owned())
    }

    #[test]
    fn local_numbers_read_in_their_country() {
        let cases = [
            ("SA", "0551112233", "966551112233"),
            ("SA", "055 111 2233", "966551112233"),
            ("SA", "٠٥٥١١١٢٢٣٣", "966551112233"),
            ("SA", "551112233", "966551112233"),
            ("SA", "966551112233", "966551112233"),
            ("SA", "+966 55 111 2233", "966551112233"),
            ("SA", "00966551112233", "966551112233"),
            ("EG", "01001234567", "201001234567"),
            ("EG", "010 0123 4567", "201001234567"),
            ("AE", "050 123 4567", "971501234567"),
            ("AE", "0501234567", "971501234567"),
            ("GB", "07911 123456", "447911123456"),
            ("GB", "(07911) 123-456", "447911123456"),
            // A number of another country, written with its code, is that country's.
            ("SA", "+20 100 123 4567", "201001234567"),
            ("SA", "201001234567", "201001234567"),
        ];
        for (country, input, expected) in cases {
            assert_eq!(
                written_in(Some(country), input),
                Ok(expected.into()),
                "{country} {input}"
            );
        }
    }

    #[test]
    fn numbers_that_are_not_valid_say_why() {
        let reason = |country: Option<&str>, v: &str| {
            let e = written_in(country, v).expect_err(v);
            assert_eq!(e.code, INVALID_PHONE_NUMBER, "{v}");
            e.reason
        };
        assert!(reason(None, "0551112233").contains("country code"));
        assert!(reason(Some("SA"), "0123").contains("not a valid number in SA"));
        assert!(reason(Some("SA"), "12").contains("too short"));
        assert!(reason(None, "+999 1234 5678").contains("not a valid number"));
        assert!(reason(None, "+966 55 111 22").contains("not a valid number"));
        assert!(reason(None, "055-abc").contains("only digits"));
        assert!(reason(None, &"1".repeat(18)).contains("too long"));
    }

    #[test]
    fn countries_are_two_letter_codes_with_a_numbering_plan() {
        assert_eq!(
            Country::parse("c", " sa ").map(|c| c.to_string()),
            Ok("SA".into())
        );
        for bad in ["", "S", "SAU", "XX", "12", "ZZ"] {
            assert!(Country::parse("c", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_search_for_a_number_looks_for_its_canonical_digits() {
        let sa = Country::parse("c", "SA").ok();
        assert_eq!(
            PhoneNumber::search_digits("0551112233", sa),
            Some("966551112233".into())
        );
        assert_eq!(
            PhoneNumber::search_digits("+966 55 111 2233", sa),
            Some("966551112233".into())
        );
        assert_eq!(
            PhoneNumber::search_digits("055 111", sa),
            Some("55111".into())
        );
        assert_eq!(PhoneNumber::search_digits("ليلى", sa), None);
        assert_eq!(PhoneNumber::search_digits("12", sa), None);
    }
}
