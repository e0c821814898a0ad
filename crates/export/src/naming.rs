//! Where an export goes: the output folder a user asks for, resolved against the export roots.
//! The names inside it come from `clef_formats::naming`.

use std::path::{Component, Path, PathBuf};

pub use clef_formats::naming::*;

use crate::error::{ExportError, ExportResult};

/// Resolves the output folder the user asked for against the export roots the owner allows.
/// With `own` (the user's folder name, see [`crate::folders::user_folder_name`]), the answer must
/// lie inside `<root>/<own>` of one root; without it (the console's own root), inside a root.
/// `requested` is either absolute or relative to that folder in the first root. The answer is the
/// root's index and a canonical path (it may not exist yet: its missing part holds only plain
/// names). Every refusal is the same whatever exists beyond the user's folder.
pub fn confine(
    roots: &[PathBuf],
    own: Option<&str>,
    requested: &str,
) -> ExportResult<(usize, PathBuf)> {
    if roots.is_empty() {
        return Err(ExportError::NoExportRoot);
    }
    if requested.contains('\0') {
        return Err(ExportError::OutsideRoots(requested.replace('\0', "\\0")));
    }
    let base = |root: &Path| match own {
        Some(name) => root.join(name),
        None => root.to_path_buf(),
    };
    let wanted = Path::new(requested);
    let wanted = if wanted.is_absolute() {
        wanted.to_path_buf()
    } else {
        base(&roots[0]).join(wanted)
    };
    let resolved = resolve_existing_prefix(&wanted)
        .ok_or_else(|| ExportError::OutsideRoots(requested.to_owned()))?;
    for (i, root) in roots.iter().enumerate() {
        let Ok(root) = root.canonicalize() else {
            continue;
        };
        // The user's folder itself is not resolved: a symbolic link in its place leads out.
        if resolved.starts_with(base(&root)) {
            return Ok((i, resolved));
        }
    }
    Err(ExportError::OutsideRoots(requested.to_owned()))
}

/// Canonicalises the longest existing prefix of `path` (following its symbolic links) and
/// appends the rest, which must be plain names: no `..`, no `.`.
fn resolve_existing_prefix(path: &Path) -> Option<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for name in rest.iter().rev() {
                out.push(name);
            }
            return Some(out);
        }
        match existing.components().next_back()? {
            Component::Normal(name) => rest.push(name.to_owned()),
            _ => return None,
        }
        existing.pop();
    }
}
