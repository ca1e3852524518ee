//! wasl's data dir holds customers' messages and media, the database and the keys that open
//! WhatsApp credentials: only the user wasl runs as may read it, whatever the umask. The dir
//! and everything wasl creates under it are made owner-only (0700 dirs, 0600 files) as they
//! are created; what an earlier version or an operator left readable is fixed at start.

use std::path::{Path, PathBuf};

/// Mode of every directory under the data dir.
pub const DIR_MODE: u32 = 0o700;
/// Mode of every file under the data dir.
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and its missing parents) owner-only.
pub fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(DIR_MODE);
    }
    builder.create(dir)
}

/// Creates the SQLite database file owner-only before SQLite opens it: SQLite gives its log
/// and shared-memory files (`-wal`, `-shm`) the mode of the database file.
pub fn create_database_file(path: &Path) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_dir(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(FILE_MODE);
    }
    options.open(path).map(drop)
}

/// The file of a `sqlite:` database URL, if it names one (not `:memory:`).
pub fn sqlite_file(database_url: &str) -> Option<PathBuf> {
    let rest = database_url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// Makes `path` and, for a directory, everything below it owner-only; returns how many it
/// changed. Symbolic links are left alone (their targets are not wasl's to change).
pub fn restrict_tree(path: &Path) -> usize {
    let mut changed = 0;
    let mut pending = vec![path.to_owned()];
    while let Some(path) = pending.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            continue;
        }
        if restrict(&path, &meta) {
            changed += 1;
        }
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.filter_map(|e| e.ok()).map(|e| e.path()));
            }
        }
    }
    changed
}

/// Makes `path` itself owner-only (not what is below it); `true` when it changed.
pub fn restrict_one(path: &Path) -> bool {
    std::fs::symlink_metadata(path)
        .is_ok_and(|meta| !meta.file_type().is_symlink() && restrict(path, &meta))
}

/// Makes the database file and its companions owner-only, wherever the URL puts them.
pub fn restrict_database(file: &Path) -> usize {
    let mut changed = 0;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = file.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if let Ok(meta) = std::fs::symlink_metadata(&path) {
            if meta.is_file() && restrict(&path, &meta) {
                changed += 1;
            }
        }
    }
    changed
}

/// Sets an owner-only mode on what group or others may reach; `true` when it changed.
#[cfg(unix)]
fn restrict(path: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o077 == 0 {
        return false;
    }
    let wanted = if meta.is_dir() { DIR_MODE } else { FILE_MODE };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(wanted)).is_ok()
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _meta: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path)
            .expect("metadata")
            .permissions()
            .mode()
            & 0o777
    }

    #[test]
    fn readable_files_and_dirs_become_owner_only() {
        let root = std::env::temp_dir().join(format!("wasl-private-{}", uuid::Uuid::now_v7()));
        let nested = root.join("media/org");
        create_dir(&nested).expect("create");
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&nested), 0o700);
        let file = nested.join("m1");
        std::fs::write(&file, b"x").expect("write");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        std::fs::set_permissions(&nested, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(restrict_tree(&root), 2);
        assert_eq!((mode(&nested), mode(&file)), (0o700, 0o600));
        assert_eq!(restrict_tree(&root), 0, "nothing left to change");

        let db = root.join("wasl.db");
        create_database_file(&db).expect("db");
        assert_eq!(mode(&db), 0o600);
        std::fs::write(root.join("wasl.db-wal"), b"").expect("wal");
        std::fs::set_permissions(
            root.join("wasl.db-wal"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("chmod");
        assert_eq!(restrict_database(&db), 1);
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/wasl/wasl.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/wasl/wasl.db"))
        );
        assert_eq!(
            sqlite_file("sqlite://./data/wasl.db?mode=rwc"),
            Some(PathBuf::from("./data/wasl.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://x/y"), None);
    }
}
