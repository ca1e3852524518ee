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

#[cfg(test)]
mod tests {
    use super::*;

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
