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
        .filter(|c| !invisible(*c))
        .collect();
    let clean = shorten(clean.trim().trim_start_matches('.'), MAX_FILENAME);
    (!clean.is_empty()).then_some(clean)
}

const MAX_FILENAME: usize = 200;

/// Characters that take no room: in a file name they only hide what it really says.
fn invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

/// A name cut to `max` characters that keeps its extension (`…long name.pdf` stays a PDF),
/// when it has a short one.
fn shorten(name: &str, max: usize) -> String {
    if name.chars().count() <= max {
        return name.to_owned();
    }
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.chars().count() <= 16);
    match extension {
        Some(ext) => {
            let keep = max - ext.chars().count() - 1;
            let stem: String = name.chars().take(keep).collect();
            format!("{}.{ext}", stem.trim_end())
        }
        None => name.chars().take(max).collect(),
    }
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
        let long = format!("{}.pdf", "فاتورة ".repeat(80));
        let short = clean_filename(&long).expect("kept");
        assert!(short.chars().count() <= 200, "{short}");
        assert!(
            short.ends_with("فاتورة.pdf"),
            "the extension stays: {short}"
        );
        assert_eq!(
            clean_filename("ﬁle\u{200B}.pdf\u{FEFF}").as_deref(),
            Some("ﬁle.pdf"),
            "zero-width characters go"
        );
    }

    #[test]
    fn nul_characters_are_dropped_and_nothing_else() {
        assert_eq!(storable("a\0b".into()), "ab");
        assert_eq!(storable("مرحباً\u{200F} ✓".into()), "مرحباً\u{200F} ✓");
    }
}
