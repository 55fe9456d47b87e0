//! Making file-system changes survive a power cut, not only a `kill -9`.
//!
//! A `kill -9` keeps the operating system's page cache; a power cut does not. A new file, a rename
//! or a new directory is on stable storage only once the directory that holds it is fsynced
//! (POSIX; ext4 and xfs may persist it earlier, but nothing promises that). So every file or
//! directory the daemon creates or renames into place is followed by [`sync_dir`] of its parent.
//! File contents are the caller's `File::sync_all`; the sled store's own barrier is
//! `store::barrier`.

use std::fs::{DirBuilder, File};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// fsyncs a directory, making the entries created, renamed or removed in it durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    // An fd opened read-only is enough: fsync(2) applies to the inode, whatever the access mode.
    File::open(dir)?.sync_all()
}

/// fsyncs the directory that holds `path` (the current directory for a bare name).
pub fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => sync_dir(Path::new(".")),
    }
}

/// Writes a file readable by its owner only (0600), whole or not at all: `write` fills a
/// `<path>.partial` beside it, which is synced and renamed into place, and the rename is made
/// durable in the folder.
pub fn write_private(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let partial = path.with_extension("partial");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&partial)?;
    write(&mut file)?;
    file.sync_all()?;
    std::fs::rename(&partial, path)?;
    sync_parent(path)
}

/// Creates `dir` and any missing ancestors with `mode`, durably: each directory created is made
/// durable in its parent. An existing `dir` is left as it is (its mode too).
pub fn create_dir_all(dir: &Path, mode: u32) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        create_dir_all(parent, mode)?;
    }
    match DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => sync_parent(dir),
        // Another process (a CLI command beside the daemon) made it meanwhile.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_nested_directories_with_the_mode_and_leaves_existing_ones() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b/c");
        create_dir_all(&deep, 0o700).unwrap();
        for dir in ["a", "a/b", "a/b/c"] {
            let mode = std::fs::metadata(root.path().join(dir)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700, "{dir}");
        }
        std::fs::set_permissions(&deep, std::fs::Permissions::from_mode(0o750)).unwrap();
        create_dir_all(&deep, 0o700).unwrap();
        let mode = std::fs::metadata(&deep).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o750, "an existing directory keeps its mode");
        sync_parent(&deep.join("file")).unwrap();
        assert!(sync_dir(&root.path().join("missing")).is_err());
    }
}
