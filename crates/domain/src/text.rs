//! Text that comes from outside — a customer's WhatsApp app, an uploaded file's name — made
//! safe to store and to show, the same way whichever engine or endpoint it came through.

/// A file name safe to show and to offer as a download: no directories, no control or
/// bidirectional-override characters (which can make `invoice\u{202E}fdp.exe` read as a PDF), none of
/// the characters file systems refuse, not hidden, at most 200 characters. `None` when
/// nothing is left.
pub fn clean_filename(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | '<' | '>' | ':' | '|' | '?' | '*'))
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .take(200)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_owned();
    (!clean.is_empty()).then_some(clean)
}

/// Text without NUL characters, which PostgreSQL cannot store in a text column (and no
/// person types). Everything else is kept as it was written.
pub fn storable(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_filenames_are_cleaned() {
        assert_eq!(
            clean_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(
            clean_filename("C:\\Users\\x\\فاتورة.pdf").as_deref(),
            Some("فاتورة.pdf")
        );
        assert_eq!(clean_filename("a\u{0}b\nc.txt").as_deref(), Some("abc.txt"));
        assert_eq!(clean_filename("...").as_deref(), None);
        assert_eq!(clean_filename(".hidden").as_deref(), Some("hidden"));
        assert_eq!(
            clean_filename("invoice\u{202E}fdp.exe").as_deref(),
            Some("invoicefdp.exe")
        );
        assert_eq!(
            clean_filename("\u{2067}صورة\u{2069}.png").as_deref(),
            Some("صورة.png")
        );
        assert_eq!(clean_filename(&"x".repeat(500)).map(|s| s.len()), Some(200));
    }

    #[test]
    fn nul_characters_are_dropped_and_nothing_else() {
        assert_eq!(storable("a\0b".into()), "ab");
        assert_eq!(storable("مرحباً\u{200F} ✓".into()), "مرحباً\u{200F} ✓");
    }
}
