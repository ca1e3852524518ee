//! Secrets wasl makes for itself on first run (master key, JWT secret): random bytes in a file
//! only the owner can read, reused on every later start.

use std::io::Write;
use std::path::Path;

use base64::Engine as _;
use rand::RngCore;

/// Reads the secret at `path` (base64), or creates it with `len` random bytes and mode 0600.
pub fn load_or_generate(path: &Path, len: usize) -> std::io::Result<Vec<u8>> {
    match std::fs::read_to_string(path) {
        Ok(text) => base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = vec![0u8; len];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            let mut file = options.open(path)?;
            file.write_all(
                base64::engine::general_purpose::STANDARD
                    .encode(&bytes)
                    .as_bytes(),
            )?;
            file.sync_all()?;
            Ok(bytes)
        }
        Err(e) => Err(e),
    }
}
