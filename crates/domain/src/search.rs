//! Folding text for search the way people type Arabic: the same word is written with or
//! without hamza (أ إ آ ا), with ta marbuta or ha (ة ه), alef maqsura or ya (ى ي), with or
//! without diacritics and tatweel. Both the stored text and the query are folded the same
//! way, so any of those spellings finds the others. Latin letters are lower-cased and
//! Arabic-Indic digits become ASCII.

pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_whitespace() {
            if !out.ends_with(' ') && !out.is_empty() {
                out.push(' ');
            }
        } else {
            fold_char(c, &mut out);
        }
    }
    out.trim_end().to_owned()
}

/// Folds one character that is not whitespace into `out` (nothing for a diacritic).
pub fn fold_char(c: char, out: &mut String) {
    match c {
        // Harakat, tanwin, shadda, sukun, superscript alef; tatweel.
        '\u{064B}'..='\u{065F}' | '\u{0670}' | '\u{0640}' => {}
        'أ' | 'إ' | 'آ' | 'ٱ' => out.push('ا'),
        'ة' => out.push('ه'),
        'ى' | 'ئ' => out.push('ي'),
        'ؤ' => out.push('و'),
        '\u{0660}'..='\u{0669}' => out.push(char::from(b'0' + (c as u32 - 0x0660) as u8)),
        '\u{06F0}'..='\u{06F9}' => out.push(char::from(b'0' + (c as u32 - 0x06F0) as u8)),
        c => out.extend(c.to_lowercase()),
    }
}

/// A message's words as the database's full-text index keeps them: folded, and split on
/// anything that is not a letter or a digit, so that SQLite's and PostgreSQL's tokenizers see
/// the same plain words ("فاتورة-1042.pdf" is the words فاتوره, 1042 and pdf).
pub fn document(parts: &[Option<&str>]) -> String {
    let mut out = String::new();
    for word in parts.iter().flatten().flat_map(|p| words(p)) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// The words of a search as typed, folded like [`document`]; each is matched as a prefix of a
/// stored word, all of them must match. At most [`MAX_TERMS`], each at most 64 characters.
pub fn terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in words(query) {
        let word: String = word.chars().take(64).collect();
        if !terms.contains(&word) {
            terms.push(word);
        }
        if terms.len() == MAX_TERMS {
            break;
        }
    }
    terms
}

/// More words than this in one search add nothing a person would miss.
pub const MAX_TERMS: usize = 8;

fn words(text: &str) -> impl Iterator<Item = String> {
    let folded: String = fold(text)
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    folded
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect::<Vec<_>>()
        .into_iter()
}

#[cfg(test)]
mod tests {
    use super::{document, fold, terms};

    #[test]
    fn documents_and_terms_are_plain_folded_words() {
        assert_eq!(
            document(&[Some("فاتورة-1042.pdf"), None, Some("  مرحباً، أحمد!")]),
            "فاتوره 1042 pdf مرحبا احمد"
        );
        assert_eq!(terms("  الفاتورة  ١٠٤٢ "), ["الفاتوره", "1042"]);
        assert_eq!(terms("إلى الى"), ["الي"]);
        assert!(terms("؟!... ").is_empty());
        assert_eq!(terms("a b c d e f g h i j").len(), super::MAX_TERMS);
    }

    #[test]
    fn arabic_spellings_meet() {
        assert_eq!(fold("أحمد"), fold("احمد"));
        assert_eq!(fold("إيمان"), fold("ايمان"));
        assert_eq!(fold("فاطمة"), fold("فاطمه"));
        assert_eq!(fold("مصطفى"), fold("مصطفي"));
        assert_eq!(fold("مُحَمَّد"), fold("محمد"));
        assert_eq!(fold("مـحـمـد"), fold("محمد"));
        assert_eq!(fold("عبد  الله"), "عبد الله");
        assert_eq!(fold("VIP Customer"), "vip customer");
        assert_eq!(fold("٠٥٠١٢٣"), "050123");
        assert!(fold("شركة الأمل للتجارة").contains(&fold("الامل")));
    }
}
