//! Customers' data stays private on the server's disk: the data dir and everything in it are
//! owner-only whatever the umask, and what an earlier run left readable is fixed at start.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::json;

use crate::messaging::{linked, png_bytes, upload};
use crate::on_both_databases;

/// Every directory and file under `root` (itself included) whose mode lets group or others
/// in, with its mode.
fn readable_by_others(root: &Path) -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        // A file may come and go meanwhile (a media file being written).
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let mode = meta.permissions().mode() & 0o777;
        let wanted = if meta.is_dir() { 0o700 } else { 0o600 };
        if mode != wanted {
            found.push((path.clone(), mode));
        }
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
            }
        }
    }
    found
}

fn all_paths(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(path) = pending.pop() {
        if path.is_dir() {
            pending.extend(
                std::fs::read_dir(&path)
                    .expect("read dir")
                    .map(|e| e.expect("entry").path()),
            );
        }
        found.push(path);
    }
    found
}

on_both_databases! {
    async fn the_data_dir_is_readable_by_its_owner_only(app: TestApp) {
        let mut app = app;
        let owner = linked(&app, "private@acme.sa", "966500000900").await;
        let (status, body) = upload(&app, &owner.token, "send-image", "image", png_bytes(), "x.png", &[("to", "966551000900")]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let image = base64::engine::general_purpose::STANDARD.encode(png_bytes());
        let (status, body) = app.post("/api/v1/whatsapp/sandbox/default/incoming", &owner.token,
            json!({"from": "966551000901", "type": "image", "mediaBase64": image, "mimeType": "image/png"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let dir = app.data_dir().to_owned();
        let names: Vec<String> = all_paths(&dir).iter().map(|p| p.display().to_string()).collect();
        assert!(names.iter().any(|n| n.contains("/media/")), "media written: {names:?}");
        assert!(names.iter().any(|n| n.ends_with("sandbox-transmissions.log")), "{names:?}");
        assert_eq!(readable_by_others(&dir), vec![], "created owner-only");

        // Files an earlier version left readable (umask 022) are fixed at the next start.
        app.restart_with(|dir| {
            for path in all_paths(dir) {
                let mode = if path.is_dir() { 0o755 } else { 0o644 };
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
            }
        }).await;
        // The media tree is fixed in the background after start: poll with a deadline.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let left = readable_by_others(&dir);
            if left.is_empty() {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "still readable by others: {left:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}
