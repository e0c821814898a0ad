//! Creating an export's folders inside its root without following a symbolic link at any level:
//! each folder is made and opened relative to the one before it (`mkdirat`, then `openat` with
//! `O_NOFOLLOW`), so a link planted or swapped in anywhere on the way is refused, never entered.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};

use rustix::fs::{mkdirat, open, openat, Mode, OFlags};
use rustix::io::Errno;

/// Makes `dir` (absolute, inside one of `roots`) and every folder between the root and it.
/// The roots themselves are the owner's choice and may be links; below them nothing is followed.
pub fn create_within(roots: &[PathBuf], dir: &Path) -> io::Result<()> {
    let (root, rel) = roots
        .iter()
        .filter_map(|r| {
            let canonical = r.canonicalize().ok();
            [Some(r.clone()), canonical]
                .into_iter()
                .flatten()
                .find_map(|r| dir.strip_prefix(&r).ok().map(|rel| (r.clone(), rel)))
        })
        .next()
        .ok_or_else(|| leads_out(dir))?;
    let flags = OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::RDONLY;
    let mut at: OwnedFd = open(&root, flags, Mode::empty())?;
    for c in rel.components() {
        let Component::Normal(name) = c else {
            return Err(leads_out(dir));
        };
        match mkdirat(&at, name, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(e.into()),
        }
        at = match openat(&at, name, flags | OFlags::NOFOLLOW, Mode::empty()) {
            Ok(fd) => fd,
            // A link (ELOOP) or a file (ENOTDIR) where a folder should be.
            Err(Errno::LOOP | Errno::NOTDIR) => return Err(leads_out(dir)),
            Err(e) => return Err(e.into()),
        };
    }
    Ok(())
}

fn leads_out(dir: &Path) -> io::Error {
    tracing::warn!(folder = %dir.display(), "export folder refused: a link or a file on the way");
    io::Error::new(io::ErrorKind::PermissionDenied, LEADS_OUT)
}

/// What a file refused for a link on its way is told (no server path in it).
pub const LEADS_OUT: &str =
    "a folder on the way is a link or a file, which could lead out of the export folder";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_made_below_the_root_and_links_are_never_followed() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let roots = vec![root.path().to_path_buf()];
        let deep = root.path().join("anna/Car/Artist/Album");
        create_within(&roots, &deep).unwrap();
        assert!(deep.is_dir());
        create_within(&roots, &deep).unwrap();

        std::os::unix::fs::symlink(outside.path(), root.path().join("anna/Car/Link")).unwrap();
        let through = root.path().join("anna/Car/Link/Album");
        let e = create_within(&roots, &through).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);

        std::fs::write(root.path().join("anna/file"), b"x").unwrap();
        assert!(create_within(&roots, &root.path().join("anna/file/Album")).is_err());
        assert!(
            create_within(&roots, outside.path()).is_err(),
            "not in a root"
        );
    }
}
