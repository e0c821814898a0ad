//! Where each user's exports go: a folder of their own in every export root
//! (`<root>/<username>`), roots checked before anything is written, and paths shown to people
//! without the server's own folders.

use std::path::{Path, PathBuf};

/// Below this much free space a root counts as full: not even one lossless album fits.
pub const MIN_FREE_BYTES: u64 = 64 * 1024 * 1024;

/// The name of a user's own folder inside a root. User names are lowercase letters, digits and
/// `. _ - @`; the few that would not make a plain folder name everywhere (`.`, `..`, a leading or
/// trailing dot, a DOS device name such as `con`) are written with `%`, which no user name holds,
/// so two users never share a folder.
pub fn user_folder_name(username: &str) -> String {
    let lead = username.len() - username.trim_start_matches('.').len();
    let trail = username.len() - username.trim_end_matches('.').len();
    let name = if lead == username.len() {
        "%2E".repeat(username.len())
    } else {
        let middle = &username[lead..username.len() - trail];
        format!("{}{middle}{}", "%2E".repeat(lead), "%2E".repeat(trail))
    };
    if crate::naming::safe_name(&name, 255) == name {
        name
    } else {
        format!("%{name}")
    }
}

/// Why an export root cannot take files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootProblem {
    Missing,
    NotAFolder,
    ReadOnly,
    /// With the bytes still free.
    Full(u64),
    /// Anything else the file system answered.
    Unwritable(String),
}

impl RootProblem {
    /// What is wrong, in plain words, to follow "the export folder".
    pub fn says(&self) -> String {
        match self {
            RootProblem::Missing => "does not exist".to_owned(),
            RootProblem::NotAFolder => "is not a folder".to_owned(),
            RootProblem::ReadOnly => "is read-only".to_owned(),
            RootProblem::Full(free) => format!(
                "is full ({} MB free, at least {} MB needed)",
                free / 1_000_000,
                MIN_FREE_BYTES / 1_000_000
            ),
            RootProblem::Unwritable(why) => format!("cannot be written to ({why})"),
        }
    }
}

/// Checks that `root` is a folder that takes files: it exists, is a folder, is not read-only
/// (a read-only mount, no write permission for anyone, or a test file that cannot be created —
/// the permission bits alone do not stop the superuser) and has [`MIN_FREE_BYTES`] free.
pub fn check_root(root: &Path) -> Result<(), RootProblem> {
    check_root_needing(root, MIN_FREE_BYTES)
}

/// [`check_root`] with `min_free` bytes needed.
fn check_root_needing(root: &Path, min_free: u64) -> Result<(), RootProblem> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(root) {
        Ok(m) => m,
        Err(e) => return Err(problem_of(&e)),
    };
    if !meta.is_dir() {
        return Err(RootProblem::NotAFolder);
    }
    if meta.permissions().mode() & 0o222 == 0 {
        return Err(RootProblem::ReadOnly);
    }
    if let Ok(vfs) = rustix::fs::statvfs(root) {
        if vfs.f_flag.contains(rustix::fs::StatVfsMountFlags::RDONLY) {
            return Err(RootProblem::ReadOnly);
        }
        let free = vfs.f_bavail.saturating_mul(vfs.f_frsize);
        if free < min_free {
            return Err(RootProblem::Full(free));
        }
    }
    tempfile::Builder::new()
        .prefix(".clef-check.")
        .tempfile_in(root)
        .map(drop)
        .map_err(|e| problem_of(&e))
}

fn problem_of(e: &std::io::Error) -> RootProblem {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::NotFound => RootProblem::Missing,
        K::NotADirectory => RootProblem::NotAFolder,
        K::ReadOnlyFilesystem | K::PermissionDenied => RootProblem::ReadOnly,
        K::StorageFull | K::QuotaExceeded => RootProblem::Full(0),
        _ => RootProblem::Unwritable(e.kind().to_string()),
    }
}

/// How paths are shown to one person: an administrator sees the server's paths; anyone else
/// sees folders relative to their own folder, and no absolute path in any message.
#[derive(Debug, Clone)]
pub struct PathView {
    admin: bool,
    /// `(root, the user's folder in it)`, canonical and as configured.
    roots: Vec<(PathBuf, PathBuf)>,
    /// Absolute prefixes to hide from messages, longest first, with what replaces them.
    hidden: Vec<(String, &'static str)>,
}

impl PathView {
    pub(crate) fn new(
        admin: bool,
        roots: &[PathBuf],
        user_folder: Option<&str>,
        music_dirs: &[PathBuf],
    ) -> PathView {
        let mut pairs = Vec::new();
        for r in roots {
            for r in [r.clone(), r.canonicalize().unwrap_or_else(|_| r.clone())] {
                let own = user_folder.map_or_else(|| r.clone(), |u| r.join(u));
                pairs.push((r, own));
            }
        }
        let mut hidden = Vec::new();
        for (root, own) in &pairs {
            hidden.push((format!("{}/", own.display()), ""));
            hidden.push((own.display().to_string(), "your export folder"));
            hidden.push((format!("{}/", root.display()), ""));
            hidden.push((root.display().to_string(), "the export folder"));
        }
        for m in music_dirs {
            for m in [m.clone(), m.canonicalize().unwrap_or_else(|_| m.clone())] {
                hidden.push((format!("{}/", m.display()), ""));
                hidden.push((m.display().to_string(), "the music folder"));
            }
        }
        hidden.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        hidden.dedup();
        PathView {
            admin,
            roots: pairs,
            hidden,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.admin
    }

    /// An export's folder: the whole path for an administrator; for anyone else the part under
    /// their own folder ("Car"), or under the root for an export made before users had folders.
    pub fn folder(&self, out_dir: &str) -> String {
        if self.admin {
            return out_dir.to_owned();
        }
        self.relative(out_dir)
    }

    /// An export's folder under the user's own folder (or under the root, for an export made
    /// before users had folders), for anyone: short enough for a table.
    pub fn relative(&self, out_dir: &str) -> String {
        let path = Path::new(out_dir);
        let under = |base: &Path, whole: &'static str| {
            path.strip_prefix(base).ok().map(|rel| {
                let rel = rel.to_string_lossy();
                if rel.is_empty() {
                    whole.to_owned()
                } else {
                    rel.into_owned()
                }
            })
        };
        self.roots
            .iter()
            .find_map(|(_, own)| under(own, "(your export folder)"))
            .or_else(|| {
                self.roots
                    .iter()
                    .find_map(|(root, _)| under(root, "(the export folder)"))
            })
            .unwrap_or_else(|| "(a folder no longer among the export folders)".to_owned())
    }

    /// A message with the server's absolute paths taken out (for anyone but an administrator).
    pub fn text(&self, message: &str) -> String {
        if self.admin {
            return message.to_owned();
        }
        let mut out = message.to_owned();
        for (prefix, with) in &self.hidden {
            if !prefix.is_empty() && prefix != "/" {
                out = out.replace(prefix.as_str(), with);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_user_gets_a_plain_folder_of_their_own() {
        assert_eq!(user_folder_name("anna"), "anna");
        assert_eq!(user_folder_name("a.b@c-d_e"), "a.b@c-d_e");
        assert_eq!(user_folder_name(".."), "%2E%2E");
        assert_eq!(user_folder_name("."), "%2E");
        assert_eq!(user_folder_name(".x."), "%2Ex%2E");
        assert_eq!(user_folder_name("con"), "%con");
        assert_eq!(user_folder_name("lpt1"), "%lpt1");
    }

    #[test]
    fn roots_that_cannot_take_files_say_why() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(check_root(dir.path()), Ok(()));
        assert_eq!(
            check_root(&dir.path().join("gone")),
            Err(RootProblem::Missing)
        );
        let file = dir.path().join("file");
        std::fs::write(&file, b"x").unwrap();
        assert_eq!(check_root(&file), Err(RootProblem::NotAFolder));
        assert_eq!(
            check_root(&file.join("under")),
            Err(RootProblem::NotAFolder)
        );
        // Full: a real statvfs answer measured against more than any disk holds.
        match check_root_needing(dir.path(), u64::MAX) {
            Err(RootProblem::Full(free)) => assert!(free > 0),
            other => panic!("{other:?}"),
        }
        assert!(RootProblem::Full(12_000_000).says().contains("12 MB free"));
        // No check file is left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn others_see_folders_under_their_own() {
        let roots = [PathBuf::from("/srv/exports")];
        let v = PathView::new(false, &roots, Some("anna"), &[PathBuf::from("/music")]);
        assert_eq!(v.folder("/srv/exports/anna/Car"), "Car");
        assert_eq!(v.folder("/srv/exports/anna"), "(your export folder)");
        assert_eq!(v.folder("/srv/exports/Car"), "Car");
        assert!(!v.folder("/elsewhere/Car").contains('/'));
        assert_eq!(
            v.text("cannot create /srv/exports/anna/Car/A: denied; reading /music/x.flac"),
            "cannot create Car/A: denied; reading x.flac"
        );
        let admin = PathView::new(true, &roots, Some("anna"), &[]);
        assert_eq!(
            admin.folder("/srv/exports/anna/Car"),
            "/srv/exports/anna/Car"
        );
    }
}
