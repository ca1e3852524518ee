//! Media files of messages, kept under `<data dir>/media/<organization>/`. File names are ours
//! (the message's id), never the sender's, so a hostile filename cannot escape the directory.

use std::path::{Path, PathBuf};

use wasl_domain::OrgId;
use wasl_engine::MessageKind;

#[derive(Debug, Clone)]
pub struct MediaStore {
    root: PathBuf,
}

impl MediaStore {
    pub fn new(data_dir: &Path) -> Self {
        MediaStore {
            root: data_dir.join("media"),
        }
    }

    /// Writes the file and returns its path relative to the media root.
    pub async fn save(
        &self,
        org: &OrgId,
        message_id: &str,
        bytes: &[u8],
    ) -> std::io::Result<String> {
        let relative = format!("{}/{}", safe(org.as_str()), safe(message_id));
        let path = self.root.join(&relative);
        if let Some(dir) = path.parent() {
            create_dir(dir).await?;
        }
        // Write then rename, so a crash never leaves half a file under the final name.
        let partial = path.with_extension("partial");
        if let Err(e) = write_private(&partial, bytes).await {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(e);
        }
        tokio::fs::rename(&partial, &path).await?;
        Ok(relative)
    }

    pub async fn read(&self, relative: &str) -> std::io::Result<Vec<u8>> {
        if relative
            .split('/')
            .any(|part| part == ".." || part.is_empty())
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad media path",
            ));
        }
        tokio::fs::read(self.root.join(relative)).await
    }

    /// Proves that media can be written now (`/ready`): writes and removes a small file.
    pub async fn probe(&self) -> std::io::Result<()> {
        create_dir(&self.root).await?;
        let probe = self.root.join(".ready-probe");
        let written = write_private(&probe, b"ok").await;
        let _ = tokio::fs::remove_file(&probe).await;
        written
    }

    pub async fn remove(&self, relative: &str) {
        let _ = tokio::fs::remove_file(self.root.join(relative)).await;
    }
}

/// Media directories are owner-only, like the rest of the data dir.
async fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(crate::private_files::DIR_MODE);
    builder.create(dir).await
}

/// Writes a new file only its owner can read.
async fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(crate::private_files::FILE_MODE);
    let mut file = options.open(path).await?;
    file.write_all(bytes).await?;
    file.flush().await
}

fn safe(part: &str) -> String {
    part.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The MIME type of the file as its bytes say, not as the client claims.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    infer::get(bytes).map(|t| t.mime_type())
}

/// Whether a sniffed type may be sent through the endpoint of `kind` (what WhatsApp accepts).
pub fn fits(kind: MessageKind, mime: Option<&str>) -> bool {
    match (kind, mime) {
        (MessageKind::Image, Some(m)) => {
            matches!(m, "image/jpeg" | "image/png" | "image/webp" | "image/gif")
        }
        (MessageKind::Video, Some(m)) => matches!(
            m,
            "video/mp4" | "video/3gpp" | "video/quicktime" | "video/webm" | "video/x-matroska"
        ),
        (MessageKind::Audio, Some(m)) => {
            matches!(
                m,
                "audio/ogg"
                    | "audio/mpeg"
                    | "audio/m4a"
                    | "audio/mp4"
                    | "audio/aac"
                    | "audio/amr"
                    | "audio/x-wav"
                    | "audio/opus"
                    | "video/mp4"
            )
        }
        // Any file can be a document, including ones without a recognisable signature (text).
        (MessageKind::Document, _) => true,
        _ => false,
    }
}

/// Types a browser only displays, never runs: images, video and audio in the formats WhatsApp
/// carries. Only these are served `inline`.
const INLINE: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/gif",
    "video/mp4",
    "video/3gpp",
    "video/quicktime",
    "video/webm",
    "video/x-matroska",
    "audio/ogg",
    "audio/mpeg",
    "audio/m4a",
    "audio/mp4",
    "audio/aac",
    "audio/amr",
    "audio/x-wav",
    "audio/opus",
];

/// Document types served as what they are, always as a download (`attachment`).
const DOWNLOAD_AS_IS: &[&str] = &[
    "application/pdf",
    "application/zip",
    "application/x-7z-compressed",
    "application/vnd.rar",
    "application/gzip",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
    "application/epub+zip",
    "text/plain",
    "text/csv",
];

/// What anything else is served as: bytes to save, which no browser interprets.
pub const OPAQUE: &str = "application/octet-stream";

/// The kind and type a customer's media is stored with, from its bytes, whatever the sender's
/// app claimed: a claimed image that is an SVG with a script, or HTML, must never reach a
/// browser as one. A file whose bytes are no recognised image, video or audio is kept as a
/// document. A file with no signature keeps a claimed plain-text type; else it is opaque.
pub fn incoming_type(kind: MessageKind, claimed: &str, bytes: &[u8]) -> (MessageKind, String) {
    let sniffed = sniff(bytes);
    let kind = match kind {
        MessageKind::Image | MessageKind::Video | MessageKind::Audio if !fits(kind, sniffed) => {
            MessageKind::Document
        }
        other => other,
    };
    let claimed = claimed
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let mime = match sniffed {
        Some(m) => m.to_owned(),
        None if matches!(claimed.as_str(), "text/plain" | "text/csv") => claimed,
        None => OPAQUE.to_owned(),
    };
    (kind, mime)
}

/// How a stored file is served: its content type, and whether it may be shown `inline`.
/// Only passive media is shown; known documents download as what they are; anything else
/// (SVG, HTML, XML, scripts, unknown types) downloads as opaque bytes.
pub fn served_as(mime: &str) -> (&str, bool) {
    let essence = mime.split(';').next().unwrap_or("").trim();
    if INLINE.iter().any(|t| t.eq_ignore_ascii_case(essence)) {
        (essence, true)
    } else if DOWNLOAD_AS_IS
        .iter()
        .any(|t| t.eq_ignore_ascii_case(essence))
    {
        (essence, false)
    } else {
        (OPAQUE, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_image_is_what_its_bytes_say() {
        let svg = br#"<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>"#;
        let (kind, mime) = incoming_type(MessageKind::Image, "image/svg+xml", svg);
        assert_eq!(kind, MessageKind::Document, "not an image");
        assert_eq!(served_as(&mime), (OPAQUE, false));
        let html = b"<html><body><script>alert(1)</script></body></html>";
        let (_, mime) = incoming_type(MessageKind::Document, "text/html", html);
        assert!(!served_as(&mime).1);
        assert_ne!(served_as(&mime).0, "text/html");
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
        ];
        assert_eq!(
            incoming_type(MessageKind::Image, "image/svg+xml", &png),
            (MessageKind::Image, "image/png".to_owned())
        );
        assert_eq!(served_as("image/png"), ("image/png", true));
        assert_eq!(
            incoming_type(MessageKind::Document, "text/plain; charset=utf-8", b"hello"),
            (MessageKind::Document, "text/plain".to_owned())
        );
        assert_eq!(served_as("text/plain"), ("text/plain", false));
        assert_eq!(served_as("image/svg+xml"), (OPAQUE, false));
        assert_eq!(served_as("application/xhtml+xml"), (OPAQUE, false));
        assert_eq!(served_as("application/pdf"), ("application/pdf", false));
    }

    #[test]
    fn sniffs_by_content_and_checks_the_endpoint() {
        let png = [
            0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D, b'I', b'H', b'D', b'R',
        ];
        assert_eq!(sniff(&png), Some("image/png"));
        assert!(fits(MessageKind::Image, sniff(&png)));
        assert!(!fits(MessageKind::Video, sniff(&png)));
        assert!(!fits(MessageKind::Image, sniff(b"just some text")));
        assert!(fits(MessageKind::Document, sniff(b"just some text")));
        let pdf = b"%PDF-1.7\n";
        assert!(
            !fits(MessageKind::Image, sniff(pdf)),
            "a PDF named photo.jpg is not an image"
        );
        assert_eq!(safe("../../etc/passwd"), "etcpasswd");
    }
}
