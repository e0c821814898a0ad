//! Tags in an M4A file Clef wrote: the `ilst` inside `moov/udta/meta` is replaced in place.
//!
//! lofty builds the `ilst` bytes, but its MP4 writer reads the whole file into memory. Our
//! files end with `moov` (see [`super::m4a`]), so replacing its `udta` moves nothing before it
//! and no chunk offset changes: only `moov` (a few hundred kilobytes at most) is read and
//! rewritten. The `iTunSMPB` item the encoder wrote is kept.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::MediaError;

/// `moov` larger than this is not one of ours.
const MAX_MOOV: u64 = 64 << 20;

/// Replaces the metadata of the M4A at `path` with `ilst` (a complete `ilst` box; empty for
/// none), keeping the gapless `iTunSMPB` item.
pub(crate) fn replace_ilst(path: &Path, ilst: &[u8]) -> Result<(), MediaError> {
    let bad = |reason: &str| MediaError::Tag {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let io = |e| MediaError::io(path, e);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io)?;
    let (moov_at, moov_len) = find_last_box(&mut file, b"moov")
        .map_err(io)?
        .ok_or_else(|| bad("no moov box at the end of the file"))?;
    if moov_len > MAX_MOOV {
        return Err(bad("moov box too large"));
    }
    let mut moov = vec![0; moov_len as usize];
    file.seek(SeekFrom::Start(moov_at)).map_err(io)?;
    file.read_exact(&mut moov).map_err(io)?;
    let mut children = Vec::new();
    let mut kept = Vec::new();
    for (kind, body) in boxes(&moov[8..]).ok_or_else(|| bad("malformed moov box"))? {
        if &kind == b"udta" {
            kept.extend(gapless_items(body));
        } else {
            children.extend_from_slice(body);
        }
    }
    let mut items = ilst.get(8..).unwrap_or_default().to_vec();
    items.extend(kept);
    if !items.is_empty() {
        let mut meta = vec![0, 0, 0, 0];
        meta.extend(super::m4a::handler_box(b"mdir"));
        meta.extend(super::m4a::boxed(b"ilst", &items));
        let udta = super::m4a::boxed(b"udta", &super::m4a::boxed(b"meta", &meta));
        children.extend(udta);
    }
    let moov = super::m4a::boxed(b"moov", &children);
    file.seek(SeekFrom::Start(moov_at)).map_err(io)?;
    file.write_all(&moov).map_err(io)?;
    file.set_len(moov_at + moov.len() as u64).map_err(io)?;
    file.sync_data().map_err(io)
}

/// The offset and size of the top-level box of `kind`, when it is the last one in the file.
fn find_last_box(file: &mut File, kind: &[u8; 4]) -> std::io::Result<Option<(u64, u64)>> {
    let end = file.seek(SeekFrom::End(0))?;
    let mut at = 0u64;
    let mut last = None;
    while at + 8 <= end {
        let mut head = [0u8; 16];
        file.seek(SeekFrom::Start(at))?;
        file.read_exact(&mut head[..8])?;
        let mut size = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        if size == 1 {
            file.read_exact(&mut head[8..])?;
            size = u64::from_be_bytes([
                head[8], head[9], head[10], head[11], head[12], head[13], head[14], head[15],
            ]);
        } else if size == 0 {
            size = end - at;
        }
        if size < 8 || at + size > end {
            return Ok(None);
        }
        last = Some((at, size, [head[4], head[5], head[6], head[7]]));
        at += size;
    }
    Ok(last
        .filter(|l| &l.2 == kind)
        .map(|(at, size, _)| (at, size)))
}

/// The child boxes of a container's payload as (type, whole box), or `None` when malformed.
fn boxes(payload: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    let mut out = Vec::new();
    let mut rest = payload;
    while !rest.is_empty() {
        let size = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        if size < 8 || size > rest.len() {
            return None;
        }
        let kind: [u8; 4] = rest[4..8].try_into().ok()?;
        out.push((kind, &rest[..size]));
        rest = &rest[size..];
    }
    Some(out)
}

/// The `----` items named `iTunSMPB` in a `udta` box, as whole boxes.
fn gapless_items(udta: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let Some(meta) = boxes(&udta[8..]).and_then(|b| b.into_iter().find(|(k, _)| k == b"meta"))
    else {
        return out;
    };
    // `meta` is a full box: four bytes of version and flags before its children.
    let Some(children) = meta.1.get(12..).and_then(boxes) else {
        return out;
    };
    for (_, ilst) in children.into_iter().filter(|(k, _)| k == b"ilst") {
        for (kind, item) in boxes(&ilst[8..]).unwrap_or_default() {
            if &kind == b"----" && item.windows(8).any(|w| w == b"iTunSMPB") {
                out.extend_from_slice(item);
            }
        }
    }
    out
}
