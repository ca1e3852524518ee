//! Opting out (SPEC §14): a customer who writes a stop word gets no broadcast or marketing
//! template again until they write a start word. The words are the organization's (Arabic and
//! English defaults), compared the way triggers are: folded, without the punctuation around
//! them, the whole message and nothing else ("stop!" stops; "don't stop" does not).

use crate::automation::normalize;
use crate::{Lang, ParseError};

pub const DEFAULT_STOP_WORDS: &[&str] = &["STOP", "إيقاف", "الغاء", "إلغاء الاشتراك"];
pub const DEFAULT_START_WORDS: &[&str] = &["START", "اشتراك"];
pub const MOST_WORDS: usize = 20;
pub const MOST_WORD_CHARS: usize = 50;

/// What a customer's message asks of their subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Stop,
    Start,
}

impl Keyword {
    pub fn as_str(self) -> &'static str {
        match self {
            Keyword::Stop => "stop",
            Keyword::Start => "start",
        }
    }

    /// The one confirmation the customer gets, in the organization's language.
    pub fn confirmation(self, lang: Lang, start_word: &str) -> String {
        match (self, lang) {
            (Keyword::Stop, Lang::Ar) => format!(
                "تم إلغاء اشتراكك، ولن تصلك منا رسائل ترويجية بعد الآن. للعودة أرسل «{start_word}»."
            ),
            (Keyword::Stop, Lang::En) => format!(
                "You are unsubscribed and will get no more promotional messages from us. To subscribe again, send \"{start_word}\"."
            ),
            (Keyword::Start, Lang::Ar) => {
                "أهلاً بعودتك! تم تفعيل اشتراكك من جديد.".to_owned()
            }
            (Keyword::Start, Lang::En) => {
                "Welcome back! You are subscribed again.".to_owned()
            }
        }
    }
}

/// An organization's stop and start words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutWords {
    stop: Vec<String>,
    start: Vec<String>,
}

impl Default for OptOutWords {
    fn default() -> Self {
        OptOutWords {
            stop: DEFAULT_STOP_WORDS.iter().map(|w| (*w).to_owned()).collect(),
            start: DEFAULT_START_WORDS
                .iter()
                .map(|w| (*w).to_owned())
                .collect(),
        }
    }
}

fn words(field: &'static str, list: &[String]) -> Result<Vec<String>, ParseError> {
    if list.is_empty() || list.len() > MOST_WORDS {
        return Err(ParseError::new(field, format!("1 to {MOST_WORDS} words")));
    }
    let mut out: Vec<String> = Vec::new();
    for word in list {
        let long = word.chars().count() > MOST_WORD_CHARS;
        let word = word.trim();
        if word.is_empty() || long || word.chars().any(char::is_control) {
            return Err(ParseError::new(
                field,
                format!("each word is 1 to {MOST_WORD_CHARS} characters of text"),
            ));
        }
        if !out.iter().any(|w| normalize(w) == normalize(word)) {
            out.push(word.to_owned());
        }
    }
    Ok(out)
}

impl OptOutWords {
    /// The words as given; a word may not be both a stop and a start word.
    pub fn parse(stop: &[String], start: &[String]) -> Result<Self, Vec<ParseError>> {
        let (stop, start) = match (words("stopWords", stop), words("startWords", start)) {
            (Ok(stop), Ok(start)) => (stop, start),
            (a, b) => return Err([a.err(), b.err()].into_iter().flatten().collect()),
        };
        if let Some(both) = stop
            .iter()
            .find(|s| start.iter().any(|t| normalize(t) == normalize(s)))
        {
            return Err(vec![ParseError::new(
                "startWords",
                format!("{both:?} cannot both stop and start"),
            )]);
        }
        Ok(OptOutWords { stop, start })
    }

    pub fn stop_words(&self) -> &[String] {
        &self.stop
    }

    pub fn start_words(&self) -> &[String] {
        &self.start
    }

    /// Whether the organization kept the default words.
    pub fn is_default(&self) -> bool {
        *self == OptOutWords::default()
    }

    /// What a message asks, when it is nothing but a stop or a start word.
    pub fn keyword(&self, text: &str) -> Option<Keyword> {
        let said = normalize(text);
        if said.is_empty() {
            return None;
        }
        let is = |list: &[String]| list.iter().any(|w| normalize(w) == said);
        if is(&self.stop) {
            Some(Keyword::Stop)
        } else if is(&self.start) {
            Some(Keyword::Start)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_and_start_words_are_whole_messages_written_any_way() {
        let words = OptOutWords::default();
        for stop in [
            "STOP",
            "stop",
            " Stop! ",
            "إلغاء",
            "الغاء",
            "إلغاء الاشتراك",
            "إيقاف.",
            "ايقاف",
        ] {
            assert_eq!(words.keyword(stop), Some(Keyword::Stop), "{stop}");
        }
        for start in ["start", "اشتراك", "إشتراك"] {
            assert_eq!(words.keyword(start), Some(Keyword::Start), "{start}");
        }
        for neither in ["please don't stop", "متى الاشتراك؟", "", "👍"] {
            assert_eq!(words.keyword(neither), None, "{neither}");
        }
    }

    #[test]
    fn an_organization_chooses_its_words() {
        let own =
            OptOutWords::parse(&["توقف".into(), "توقّف".into()], &["عودة".into()]).expect("words");
        assert_eq!(own.stop_words().len(), 1, "the same word once");
        assert_eq!(own.keyword("توقف"), Some(Keyword::Stop));
        assert_eq!(own.keyword("STOP"), None);
        assert!(OptOutWords::parse(&[], &["a".into()]).is_err());
        assert!(OptOutWords::parse(&["stop".into()], &["STOP".into()]).is_err());
        assert!(OptOutWords::default().is_default());
        assert!(Keyword::Stop
            .confirmation(Lang::Ar, "اشتراك")
            .contains("«اشتراك»"));
    }
}
