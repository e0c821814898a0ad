//! The scanner against a library made at test time by the real `ffmpeg`: 520 short tracks with
//! known tags in MP3, FLAC, M4A (AAC and ALAC), Ogg Vorbis, Opus, WAV and AIFF, with embedded
//! and folder covers; then rescans after adding, retagging, moving and deleting files; broken
//! files mixed in; and multi-valued tags.
//!
//! What each format carries is what ffmpeg writes, checked with ffprobe for one file of every
//! variant, so the expectations below describe the files, not the scanner:
//! * MP3 and AIFF: ID3v2 (2.3 or 2.4). ISRC is written as `TSRC` (ffmpeg's `ISRC` key would
//!   become `TXXX:ISRC`). ffmpeg writes the comment as `TXXX:comment`, not `COMM`; AIFF also
//!   gets the comment in its `ANNO` chunk.
//! * FLAC, Ogg Vorbis, Opus: Vorbis comments; ffmpeg writes the comment as `DESCRIPTION`.
//! * M4A: iTunes atoms; ffmpeg has no ISRC atom.
//! * WAV: RIFF INFO only: title, artist, album (`IPRD`), genre, date, comment, track (`IPRT`).
//!   No album artist, disc, composer or compilation. ffmpeg's INFO `ISRC` chunk means "source"
//!   in RIFF, so no ISRC is written.
//!
//! Values a file holds that the scanner does not read yet are listed in [`known_gap`].

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod generated;
mod support;

use generated::*;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clef_library::{AlbumSort, Library, ScanReport};
use clef_store::TrackRecord;
use support::{ffmpeg, ffprobe, open_library, parallelism, require_tool, runtime};

/// Compares every stored record with the model (path → spec); returns the mismatches and counts
/// the known gaps met.
#[derive(Default)]
struct Checker {
    errors: Vec<String>,
    gaps: BTreeMap<String, usize>,
}

impl Checker {
    fn field<A: Debug, E: Debug>(&mut self, spec: &Spec, field: &str, actual: A, expected: E) {
        let actual = format!("{actual:?}");
        let expected = format!("{expected:?}");
        match known_gap(spec, field) {
            Some(why) => {
                if actual == "None" || actual == "false" {
                    *self
                        .gaps
                        .entry(format!("{:?} {field}: {why}", spec.kind))
                        .or_default() += 1;
                } else if actual == expected {
                    self.errors.push(format!(
                        "{}: the scanner now reads {field} ({actual}); remove its known_gap entry",
                        spec.rel
                    ));
                } else {
                    self.errors.push(format!(
                        "{}: {field} = {actual}, expected {expected} (known gap: {why})",
                        spec.rel
                    ));
                }
            }
            None if actual != expected => self.errors.push(format!(
                "{}: {field} = {actual}, expected {expected}",
                spec.rel
            )),
            None => {}
        }
    }

    fn record(&mut self, r: &TrackRecord, s: &Spec, music: &Path) {
        let k = s.kind;
        let wav = k == Kind::Wav;
        self.field(s, "title", &r.title, &s.title);
        self.field(s, "artists", &r.artists, [&s.artist]);
        self.field(s, "album", &r.album, &s.album);
        let album_artists: Vec<&String> = if wav { vec![] } else { vec![&s.album_artist] };
        self.field(s, "album_artists", &r.album_artists, album_artists);
        self.field(s, "compilation", r.compilation, s.compilation && !wav);
        self.field(s, "genres", &r.genres, [&s.genre]);
        self.field(s, "track_no", r.track_no, Some(s.track.0));
        self.field(
            s,
            "track_total",
            r.track_total,
            s.write_total.then_some(s.track.1),
        );
        self.field(s, "disc_no", r.disc_no, (!wav).then_some(s.disc.0));
        self.field(s, "disc_total", r.disc_total, (!wav).then_some(s.disc.1));
        self.field(s, "year", r.year, Some(s.year));
        self.field(s, "composer", &r.composer, (!wav).then_some(&s.composer));
        self.field(s, "comment", &r.comment, Some(&s.comment));
        self.field(s, "isrc", &r.isrc, s.carries_isrc().then_some(&s.isrc));
        self.field(s, "sample_rate", r.sample_rate, Some(s.variant.sample_rate));
        self.field(s, "channels", r.channels, Some(s.variant.channels));
        self.field(s, "bit_depth", r.bit_depth, s.variant.bits);
        let (codec, format) = k.codec_format();
        self.field(s, "codec", &r.codec, codec);
        self.field(s, "format", &r.format, format);
        self.field(s, "embedded_cover", r.embedded_cover, s.embed.is_some());
        let cover = s
            .folder_cover
            .as_ref()
            .map(|c| music.join(c).to_string_lossy().into_owned());
        self.field(s, "cover_path", &r.cover_path, cover);
        let (below, above) = k.duration_tolerance_ms(s.variant.sample_rate);
        let d = r.duration_ms - s.duration_ms;
        if d < -below || d > above {
            self.errors.push(format!(
                "{}: duration {} ms, generated {} ms (allowed -{below}/+{above})",
                s.rel, r.duration_ms, s.duration_ms
            ));
        }
        match (r.bitrate, s.variant.bits) {
            (Some(b), Some(bits)) if matches!(k, Kind::Wav | Kind::Aiff) => {
                let exact = s.variant.sample_rate * bits * s.variant.channels;
                if (b * 1000 - exact).abs() > 1000 {
                    self.errors.push(format!(
                        "{}: bitrate {b} kbps, PCM is {} kbps",
                        s.rel,
                        exact as f64 / 1000.0
                    ));
                }
            }
            (Some(b), _) if b > 0 => {}
            (b, _) => self.errors.push(format!("{}: bitrate {b:?}", s.rel)),
        }
    }
}

/// The test's picture of the library: every file's spec by its relative path.
struct Model {
    music: PathBuf,
    specs: BTreeMap<String, Spec>,
}

impl Model {
    fn abs(&self, rel: &str) -> String {
        self.music.join(rel).to_string_lossy().into_owned()
    }

    /// Checks the catalog against the model: the same files, every record's facts, the albums
    /// and artists they make, and search. Prints the known gaps met.
    fn check_catalog(&self, lib: &Library, step: &str) {
        let catalog = lib.catalog();
        let by_path: HashMap<&str, &TrackRecord> =
            catalog.records().map(|r| (r.path.as_str(), r)).collect();
        let mut c = Checker::default();
        for (rel, spec) in &self.specs {
            match by_path.get(self.abs(rel).as_str()) {
                Some(r) => c.record(r, spec, &self.music),
                None => c.errors.push(format!("{rel}: not in the catalog")),
            }
        }
        let expected: HashSet<String> = self.specs.keys().map(|r| self.abs(r)).collect();
        for p in by_path.keys() {
            if !expected.contains(*p) {
                c.errors
                    .push(format!("{p}: in the catalog but not on disk"));
            }
        }
        assert_eq!(
            catalog.track_count(),
            self.specs.len(),
            "{step}: track count"
        );

        // Albums: by album artist where there is one, else by folder (WAV has no album artist).
        let mut albums: HashMap<String, Vec<&Spec>> = HashMap::new();
        for (rel, s) in &self.specs {
            let scope = if s.kind == Kind::Wav {
                Path::new(rel)
                    .parent()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            } else {
                s.album_artist.to_lowercase()
            };
            albums
                .entry(format!("{}\u{1f}{scope}", s.album.to_lowercase()))
                .or_default()
                .push(s);
        }
        assert_eq!(catalog.album_count(), albums.len(), "{step}: album count");
        let (total, list) = catalog.albums(AlbumSort::Name, None, 0, 10_000);
        assert_eq!(total, albums.len(), "{step}: album list total");
        let mut listed_tracks = 0;
        for a in &list {
            let (view, tracks) = catalog.album(&a.id).unwrap();
            listed_tracks += tracks.len();
            assert_eq!(view.track_count, tracks.len());
            let order: Vec<(i64, i64)> = tracks
                .iter()
                .map(|t| (t.disc_no.unwrap_or(1), t.track_no.unwrap_or(i64::MAX)))
                .collect();
            let mut sorted = order.clone();
            sorted.sort();
            assert_eq!(order, sorted, "{step}: album {} out of order", view.name);
            let first = catalog.track_record(&tracks[0].id).unwrap();
            let rel = first
                .path
                .strip_prefix(&format!("{}/", self.music.display()))
                .unwrap();
            let s = &self.specs[rel];
            let members = albums
                .values()
                .find(|m| m.iter().any(|x| x.rel == s.rel))
                .unwrap();
            assert_eq!(tracks.len(), members.len(), "{step}: album {}", view.name);
            assert_eq!(view.name, s.album);
            if s.kind != Kind::Wav {
                assert_eq!(view.artist, s.album_artist, "{step}: album artist");
            }
            assert_eq!(view.compilation, s.compilation && s.kind != Kind::Wav);
            assert_eq!(view.year, Some(s.year));
            let has_cover = members
                .iter()
                .any(|m| m.embed.is_some() || m.folder_cover.is_some());
            assert_eq!(
                view.has_cover, has_cover,
                "{step}: album {} cover",
                view.name
            );
        }
        assert_eq!(
            listed_tracks,
            self.specs.len(),
            "{step}: tracks over albums"
        );

        let names: HashSet<String> = catalog.artists().into_iter().map(|a| a.name).collect();
        for s in self.specs.values() {
            if !names.contains(&s.artist) {
                c.errors
                    .push(format!("{}: artist {:?} not listed", s.rel, s.artist));
            }
        }
        for s in self.specs.values().step_by(37) {
            let r = by_path[self.abs(&s.rel).as_str()];
            let hits = catalog.search(&s.title, 50).tracks;
            assert!(
                hits.iter().any(|t| t.id == r.id),
                "{step}: searching {:?} misses its track",
                s.title
            );
            let view = catalog.track(&r.id).unwrap();
            assert_eq!(view.title, s.title);
            assert_eq!(view.album, s.album);
            assert_eq!(
                view.has_cover,
                s.embed.is_some() || s.folder_cover.is_some()
            );
        }

        if !c.gaps.is_empty() && step == "first scan" {
            println!("{step}: known scanner gaps met (see known_gap):");
            for (g, n) in &c.gaps {
                println!("  {n:4} × {g}");
            }
        }
        let shown: Vec<&String> = c.errors.iter().take(60).collect();
        assert!(
            c.errors.is_empty(),
            "{step}: {} mismatches between the catalog and the files:\n{}",
            c.errors.len(),
            shown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    fn id_of(&self, lib: &Library, rel: &str) -> String {
        let p = self.abs(rel);
        lib.catalog()
            .records()
            .find(|r| r.path == p)
            .unwrap_or_else(|| panic!("{rel} not in the catalog"))
            .id
            .clone()
    }
}

fn report(files: usize, f: impl FnOnce(&mut ScanReport)) -> ScanReport {
    let mut r = ScanReport {
        files,
        ..ScanReport::default()
    };
    f(&mut r);
    r
}

fn assert_report(step: &str, got: &ScanReport, expected: ScanReport) {
    let got = ScanReport {
        duration_ms: 0,
        ..got.clone()
    };
    assert_eq!(got, expected, "{step}: scan report");
}

/// Prints the spread of (scanned − generated) duration per kind, to keep the tolerances honest.
fn print_duration_spread(lib: &Library, model: &Model) {
    let mut spread: BTreeMap<(Kind, i64), (i64, i64)> = BTreeMap::new();
    for r in lib.catalog().records() {
        let rel = r
            .path
            .strip_prefix(&format!("{}/", model.music.display()))
            .unwrap();
        let s = &model.specs[rel];
        let d = r.duration_ms - s.duration_ms;
        let e = spread
            .entry((s.kind, s.variant.sample_rate))
            .or_insert((d, d));
        e.0 = e.0.min(d);
        e.1 = e.1.max(d);
    }
    println!("duration − generated (ms), per kind and sample rate:");
    for ((k, sr), (lo, hi)) in spread {
        let (below, above) = k.duration_tolerance_ms(sr);
        println!("  {k:?} {sr:>6} Hz: {lo:+} .. {hi:+} (allowed -{below}/+{above})");
    }
}

/// Re-encodes nothing: copies the streams of `rel` with a new title and artist into a file
/// beside it, gives it a later modification time, and puts it in place.
fn retag(music: &Path, rel: &str, title: &str, artist: &str) {
    let path = music.join(rel);
    let ext = support::extension(&path);
    let tmp = path.with_file_name(format!(".retag.tmp.{ext}"));
    let old = std::fs::metadata(&path).unwrap().modified().unwrap();
    let (title, artist) = (format!("title={title}"), format!("artist={artist}"));
    // Ogg keeps its tags on the stream: set them there as well as on the file.
    #[rustfmt::skip]
    ffmpeg(&[
        "-i", path.to_str().unwrap(), "-map", "0", "-c", "copy",
        "-metadata", &title, "-metadata", &artist,
        "-metadata:s:a:0", &title, "-metadata:s:a:0", &artist,
        tmp.to_str().unwrap(),
    ]);
    std::fs::File::options()
        .write(true)
        .open(&tmp)
        .unwrap()
        .set_modified(old + Duration::from_secs(5))
        .unwrap();
    std::fs::rename(&tmp, &path).unwrap();
}

#[test]
fn generated_library_scans_exactly_and_rescans_incrementally() {
    require_tool("ffmpeg");
    require_tool("ffprobe");
    let test_started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let music = music.canonicalize().unwrap();
    let images = Images::make(&dir.path().join("images"));

    let specs = library_specs();
    assert!(specs.len() >= 500, "{} tracks", specs.len());
    let gen_time = generate(&specs, &music, &images);
    println!(
        "generated {} tracks with ffmpeg in {:.1} s ({} at a time)",
        specs.len(),
        gen_time.as_secs_f64(),
        parallelism()
    );
    let probe_started = Instant::now();
    verify_with_ffprobe(&specs, &music);
    println!(
        "checked one file per variant with ffprobe in {:.1} s",
        probe_started.elapsed().as_secs_f64()
    );

    let mut model = Model {
        music: music.clone(),
        specs: specs.iter().map(|s| (s.rel.clone(), s.clone())).collect(),
    };
    let rt = runtime();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let lib = rt.block_on(open_library(&music, &work));

    // The first scan.
    let n = model.specs.len();
    let r = rt.block_on(lib.scan()).unwrap();
    println!("first scan of {n} files: {} ms", r.duration_ms);
    assert_report("first scan", &r, report(n, |r| r.added = n));
    assert!(rt.block_on(lib.problems()).unwrap().is_empty());
    print_duration_spread(&lib, &model);
    model.check_catalog(&lib, "first scan");
    check_covers(&rt, &lib, &model, &images);

    // (a) Nothing changed.
    let before: Vec<TrackRecord> = lib.catalog().records().cloned().collect();
    let r = rt.block_on(lib.scan()).unwrap();
    println!("no-change rescan: {} ms", r.duration_ms);
    assert_report("no-change rescan", &r, report(n, |r| r.unchanged = n));
    let after: Vec<TrackRecord> = lib.catalog().records().cloned().collect();
    assert_eq!(
        before, after,
        "a no-change rescan must not touch the catalog"
    );

    // (b) Five new files in a new folder.
    let added: Vec<Spec> = [Kind::Mp3, Kind::Flac, Kind::Aac, Kind::Vorbis, Kind::Aiff]
        .into_iter()
        .enumerate()
        .map(|(i, kind)| {
            let g = n + i;
            Spec {
                kind,
                variant: kind.variants()[i % kind.variants().len()],
                rel: format!("Added/{:02} added{g:03}.{}", i + 1, kind.ext()),
                duration_ms: 600 + 100 * i as i64,
                freq: 440,
                title: format!("Added {g:03}"),
                artist: "Added Band".into(),
                album: "Added Album".into(),
                album_artist: "Added Band".into(),
                genre: "Rock".into(),
                track: (i as i64 + 1, 5),
                write_total: true,
                disc: (1, 1),
                date: "2024-02-29".into(),
                year: 2024,
                composer: "Composer A".into(),
                comment: format!("Added comment {g}"),
                isrc: format!("QZCLF24{g:05}"),
                compilation: false,
                embed: None,
                folder_cover: None,
            }
        })
        .collect();
    generate(&added, &music, &images);
    let r = rt.block_on(lib.scan()).unwrap();
    assert_report(
        "add 5",
        &r,
        report(n + 5, |r| {
            r.added = 5;
            r.unchanged = n;
        }),
    );
    for s in &added {
        model.specs.insert(s.rel.clone(), s.clone());
    }
    model.check_catalog(&lib, "add 5");
    let n = n + 5;

    // (c) New tags in three files (same path, new size and later modification time).
    let retagged: Vec<String> = [
        specs_of(&specs, Kind::Vorbis, 1, 0),
        specs_of(&specs, Kind::Wav, 1, 0),
        specs_of(&specs, Kind::Flac, 1, 2),
    ]
    .into_iter()
    .map(|s| s.rel.clone())
    .collect();
    let ids_before: Vec<String> = retagged.iter().map(|r| model.id_of(&lib, r)).collect();
    for rel in &retagged {
        let s = model.specs.get_mut(rel).unwrap();
        s.title = format!("Retitled {}", s.title);
        s.artist = "New Artist Ω".into();
        let (title, artist) = (s.title.clone(), s.artist.clone());
        retag(&music, rel, &title, &artist);
        let p = ffprobe(&music.join(rel)).unwrap();
        assert_eq!(
            p.tags.get("title"),
            Some(&title),
            "{rel}: ffprobe after retag"
        );
        assert_eq!(
            p.tags.get("artist"),
            Some(&artist),
            "{rel}: ffprobe after retag"
        );
    }
    let r = rt.block_on(lib.scan()).unwrap();
    assert_report(
        "retag 3",
        &r,
        report(n, |r| {
            r.changed = 3;
            r.unchanged = n - 3;
        }),
    );
    let ids_after: Vec<String> = retagged.iter().map(|r| model.id_of(&lib, r)).collect();
    assert_eq!(ids_before, ids_after, "a changed file keeps its id");
    for rel in &retagged {
        let id = model.id_of(&lib, rel);
        let view = lib.catalog().track(&id).unwrap().clone();
        assert_eq!(view.title, model.specs[rel].title);
        assert_eq!(view.artists[0].name, "New Artist Ω");
    }
    model.check_catalog(&lib, "retag 3");

    // (d) Four files moved to another folder (renaming keeps size and modification time).
    // Both folders have no picture beside the files, so the cover stays the same.
    let moved: Vec<String> = [
        specs_of(&specs, Kind::Mp3, 1, 0),
        specs_of(&specs, Kind::Flac, 3, 5),
        specs_of(&specs, Kind::Aac, 1, 1),
        specs_of(&specs, Kind::Aiff, 1, 3),
    ]
    .into_iter()
    .map(|s| s.rel.clone())
    .collect();
    let ids_before: Vec<String> = moved.iter().map(|r| model.id_of(&lib, r)).collect();
    std::fs::create_dir_all(music.join("Moved")).unwrap();
    let mut new_rels = Vec::new();
    for rel in &moved {
        let name = Path::new(rel).file_name().unwrap().to_string_lossy();
        let new_rel = format!("Moved/{name}");
        std::fs::rename(music.join(rel), music.join(&new_rel)).unwrap();
        let mut s = model.specs.remove(rel).unwrap();
        s.rel = new_rel.clone();
        model.specs.insert(new_rel.clone(), s);
        new_rels.push(new_rel);
    }
    let r = rt.block_on(lib.scan()).unwrap();
    assert_report(
        "move 4",
        &r,
        report(n, |r| {
            r.moved = 4;
            r.unchanged = n - 4;
        }),
    );
    let ids_after: Vec<String> = new_rels.iter().map(|r| model.id_of(&lib, r)).collect();
    assert_eq!(ids_before, ids_after, "a moved file keeps its id");
    model.check_catalog(&lib, "move 4");

    // (e) Six files deleted, one of them just moved and one just added.
    let deleted: Vec<String> = vec![
        specs_of(&specs, Kind::Mp3, 2, 3).rel.clone(),
        specs_of(&specs, Kind::Flac, 0, 5).rel.clone(),
        specs_of(&specs, Kind::Alac, 4, 2).rel.clone(),
        specs_of(&specs, Kind::Opus, 0, 1).rel.clone(),
        new_rels[1].clone(),
        added[2].rel.clone(),
    ];
    let deleted_ids: Vec<String> = deleted.iter().map(|r| model.id_of(&lib, r)).collect();
    for rel in &deleted {
        std::fs::remove_file(music.join(rel)).unwrap();
        model.specs.remove(rel);
    }
    let r = rt.block_on(lib.scan()).unwrap();
    assert_report(
        "delete 6",
        &r,
        report(n - 6, |r| {
            r.deleted = 6;
            r.unchanged = n - 6;
        }),
    );
    for id in &deleted_ids {
        assert!(
            lib.catalog().track(id).is_none(),
            "deleted track {id} still listed"
        );
        assert!(rt.block_on(lib.track_cover(id, Some(128))).is_err());
    }
    model.check_catalog(&lib, "delete 6");
    assert!(rt.block_on(lib.problems()).unwrap().is_empty());

    println!(
        "whole test: {:.1} s (generation {:.1} s)",
        test_started.elapsed().as_secs_f64(),
        gen_time.as_secs_f64()
    );
}

/// The spec of track `t` of album `a` of `kind`.
fn specs_of(specs: &[Spec], kind: Kind, a: usize, t: usize) -> &Spec {
    let first = specs.iter().position(|s| s.kind == kind).unwrap();
    &specs[first + a * TRACKS_PER_ALBUM + t]
}

/// One track of every album: the original cover is the embedded or folder picture byte for
/// byte, a thumbnail is a decodable 128×128 JPEG, and a track without a picture has none.
fn check_covers(rt: &tokio::runtime::Runtime, lib: &Library, model: &Model, images: &Images) {
    let started = Instant::now();
    let mut checked = 0;
    let mut seen_albums = HashSet::new();
    for s in model.specs.values() {
        if !seen_albums.insert((s.kind, s.album.clone())) {
            continue;
        }
        let id = model.id_of(lib, &s.rel);
        let original = rt.block_on(lib.track_cover(&id, None));
        let thumb = rt.block_on(lib.track_cover(&id, Some(128)));
        let source = match (s.embed, &s.folder_cover) {
            (Some(img), _) => Some(images.bytes(img)),
            (None, Some(c)) => Some(std::fs::read(model.music.join(c)).unwrap()),
            (None, None) => None,
        };
        match source {
            None => {
                assert!(original.is_err(), "{}: a cover without a picture", s.rel);
                assert!(thumb.is_err(), "{}: a thumbnail without a picture", s.rel);
            }
            Some(bytes) => {
                let original = original.unwrap_or_else(|e| panic!("{}: cover: {e:?}", s.rel));
                assert!(
                    original.bytes == bytes,
                    "{}: the original cover is not the picture put in",
                    s.rel
                );
                let png = bytes.starts_with(b"\x89PNG");
                let mime = if png { "image/png" } else { "image/jpeg" };
                assert_eq!(original.mime, mime, "{}", s.rel);
                let thumb = thumb.unwrap_or_else(|e| panic!("{}: thumbnail: {e:?}", s.rel));
                assert_eq!(thumb.mime, "image/jpeg");
                let img =
                    image::load_from_memory_with_format(&thumb.bytes, image::ImageFormat::Jpeg)
                        .unwrap_or_else(|e| panic!("{}: thumbnail does not decode: {e}", s.rel));
                assert_eq!((img.width(), img.height()), (128, 128), "{}", s.rel);
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} covers checked");
    println!(
        "covers: {checked} albums' covers and thumbnails checked in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

/// Builds a minimal ID3v2.4 tag of UTF-8 text frames (values may hold NUL separators).
fn id3v24(frames: &[(&str, &str)]) -> Vec<u8> {
    fn syncsafe(n: usize) -> [u8; 4] {
        [
            ((n >> 21) & 0x7f) as u8,
            ((n >> 14) & 0x7f) as u8,
            ((n >> 7) & 0x7f) as u8,
            (n & 0x7f) as u8,
        ]
    }
    let mut body = Vec::new();
    for (id, text) in frames {
        let mut data = vec![3u8]; // UTF-8
        data.extend_from_slice(text.as_bytes());
        body.extend_from_slice(id.as_bytes());
        body.extend_from_slice(&syncsafe(data.len()));
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&data);
    }
    let mut tag = b"ID3\x04\x00\x00".to_vec();
    tag.extend_from_slice(&syncsafe(body.len()));
    tag.extend_from_slice(&body);
    tag
}

/// Replaces a FLAC file's Vorbis comment block (and padding) with `comments`, which may repeat
/// keys: ffmpeg can only write one value per key.
fn set_flac_comments(path: &Path, comments: &[(&str, &str)]) {
    let data = std::fs::read(path).unwrap();
    assert_eq!(&data[..4], b"fLaC");
    let mut blocks: Vec<(u8, Vec<u8>)> = Vec::new();
    let mut i = 4;
    loop {
        let header = data[i];
        let len = u32::from_be_bytes([0, data[i + 1], data[i + 2], data[i + 3]]) as usize;
        blocks.push((header & 0x7f, data[i + 4..i + 4 + len].to_vec()));
        i += 4 + len;
        if header & 0x80 != 0 {
            break;
        }
    }
    let frames = &data[i..];
    let vendor = b"clef test";
    let mut vc = Vec::new();
    vc.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    vc.extend_from_slice(vendor);
    vc.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for (k, v) in comments {
        let c = format!("{k}={v}");
        vc.extend_from_slice(&(c.len() as u32).to_le_bytes());
        vc.extend_from_slice(c.as_bytes());
    }
    blocks.retain(|(t, _)| *t != 1 && *t != 4);
    blocks.push((4, vc));
    let mut out = b"fLaC".to_vec();
    let last = blocks.len() - 1;
    for (n, (t, b)) in blocks.iter().enumerate() {
        out.push(if n == last { t | 0x80 } else { *t });
        out.extend_from_slice(&(b.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(b);
    }
    out.extend_from_slice(frames);
    std::fs::write(path, out).unwrap();
}

#[test]
fn multi_valued_artists_and_genres() {
    require_tool("ffmpeg");
    require_tool("ffprobe");
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let music = music.canonicalize().unwrap();
    let flac = music.join("multi.flac");
    let mp3 = music.join("multi.mp3");
    let (f, m) = (flac.to_str().unwrap(), mp3.to_str().unwrap());
    #[rustfmt::skip]
    ffmpeg(&[
        "-f", "lavfi", "-i", "sine=duration=0.6",
        "-map_metadata", "-1", "-fflags", "+bitexact", "-c:a", "flac", f,
        "-map_metadata", "-1", "-id3v2_version", "0", "-c:a", "libmp3lame", m,
    ]);
    set_flac_comments(
        &flac,
        &[
            ("TITLE", "Multi FLAC"),
            ("ARTIST", "Alpha"),
            ("ARTIST", "Beta"),
            ("ALBUMARTIST", "Gamma"),
            ("ALBUMARTIST", "Delta"),
            ("ALBUM", "Multi Album"),
            ("GENRE", "Rock"),
            ("GENRE", "Jazz"),
            ("TRACKNUMBER", "1"),
        ],
    );
    let mut tagged = id3v24(&[
        ("TIT2", "Multi MP3"),
        ("TPE1", "Alpha\0Epsilon"),
        ("TPE2", "Gamma\0Delta"),
        ("TALB", "Multi Album"),
        ("TCON", "Rock\0Jazz"),
        ("TRCK", "2"),
    ]);
    tagged.extend(std::fs::read(&mp3).unwrap());
    std::fs::write(&mp3, tagged).unwrap();

    // ffprobe sees both values (joined with ';'), so they are really in the files.
    let p = ffprobe(&flac).unwrap();
    assert_eq!(p.tags.get("artist").map(String::as_str), Some("Alpha;Beta"));
    assert_eq!(p.tags.get("genre").map(String::as_str), Some("Rock;Jazz"));
    assert!(ffprobe(&mp3).is_some());

    let rt = runtime();
    let lib = rt.block_on(open_library(&music, dir.path()));
    let r = rt.block_on(lib.scan()).unwrap();
    assert_eq!((r.added, r.unreadable), (2, 0), "{r:?}");
    let catalog = lib.catalog();
    let rec = |p: &Path| {
        catalog
            .records()
            .find(|r| Path::new(&r.path) == p)
            .unwrap()
            .clone()
    };
    let f = rec(&flac);
    assert_eq!(f.title, "Multi FLAC");
    assert_eq!(f.artists, ["Alpha", "Beta"]);
    assert_eq!(f.album_artists, ["Gamma", "Delta"]);
    assert_eq!(f.genres, ["Rock", "Jazz"]);
    let m = rec(&mp3);
    assert_eq!(m.title, "Multi MP3");
    assert_eq!(m.artists, ["Alpha", "Epsilon"]);
    assert_eq!(m.album_artists, ["Gamma", "Delta"]);
    assert_eq!(m.genres, ["Rock", "Jazz"]);
    assert_eq!(m.track_no, Some(2));

    // Both files are one album by "Gamma, Delta"; each artist is listed once.
    assert_eq!(catalog.album_count(), 1);
    let (_, albums) = catalog.albums(AlbumSort::Name, None, 0, 10);
    assert_eq!(albums[0].artist, "Gamma, Delta");
    assert_eq!(albums[0].genres, ["Rock", "Jazz"]);
    let artists: BTreeMap<String, usize> = catalog
        .artists()
        .into_iter()
        .map(|a| (a.name, a.track_count))
        .collect();
    for (name, tracks) in [("Alpha", 2), ("Beta", 1), ("Epsilon", 1)] {
        assert_eq!(artists.get(name), Some(&tracks), "{name}: {artists:?}");
    }
    let view = catalog.track(&f.id).unwrap();
    let names: Vec<&str> = view.artists.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["Alpha", "Beta"]);
}

#[test]
fn broken_files_are_reported_and_good_files_kept() {
    require_tool("ffmpeg");
    let dir = tempfile::tempdir().unwrap();
    let music = dir.path().join("music");
    std::fs::create_dir_all(music.join("good")).unwrap();
    std::fs::create_dir_all(music.join("bad")).unwrap();
    let music = music.canonicalize().unwrap();
    let images = Images::make(&dir.path().join("images"));

    // Good files: one of each kind.
    let good: Vec<Spec> = library_specs()
        .into_iter()
        .filter(|s| s.track == (1, TRACKS_PER_ALBUM as i64) && s.album.contains(" Album 0 "))
        .map(|mut s| {
            s.rel = format!(
                "good/{}",
                Path::new(&s.rel).file_name().unwrap().to_string_lossy()
            );
            s.folder_cover = None;
            s
        })
        .collect();
    assert_eq!(good.len(), 8);
    generate(&good, &music, &images);

    // Broken files: a FLAC cut inside its STREAMINFO, an M4A cut in half (ffmpeg writes the
    // index at the end), pseudo-random bytes named .mp3 (fixed seed: the same bytes every run),
    // an empty FLAC, and an Ogg page header with nothing after it.
    let bad = music.join("bad");
    let flac = std::fs::read(music.join(&good[1].rel)).unwrap();
    std::fs::write(bad.join("truncated.flac"), &flac[..20]).unwrap();
    let m4a = std::fs::read(music.join(&good[2].rel)).unwrap();
    std::fs::write(bad.join("truncated.m4a"), &m4a[..m4a.len() / 2]).unwrap();
    let mut x: u32 = 0x1234_5678;
    let noise: Vec<u8> = (0..8192)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    std::fs::write(bad.join("noise.mp3"), &noise).unwrap();
    std::fs::write(bad.join("empty.flac"), b"").unwrap();
    let ogg = std::fs::read(music.join(&good[4].rel)).unwrap();
    std::fs::write(bad.join("cut.ogg"), &ogg[..27]).unwrap();
    let broken = [
        "cut.ogg",
        "empty.flac",
        "noise.mp3",
        "truncated.flac",
        "truncated.m4a",
    ];

    let rt = runtime();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let lib = rt.block_on(open_library(&music, &work));
    for round in ["first scan", "rescan"] {
        let started = Instant::now();
        let r = rt.block_on(lib.scan()).unwrap();
        println!("{round}: {r:?} in {} ms", started.elapsed().as_millis());
        assert_eq!(r.files, good.len() + broken.len(), "{round}");
        assert_eq!(r.unreadable, broken.len(), "{round}: {r:?}");
        let problems = rt.block_on(lib.problems()).unwrap();
        let mut names: Vec<String> = problems
            .iter()
            .map(|p| {
                Path::new(&p.path)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        names.sort();
        assert_eq!(names, broken, "{round}: {problems:?}");
        for p in &problems {
            println!("  problem: {}: {}", p.path, p.reason);
            assert!(!p.reason.trim().is_empty(), "{}: empty reason", p.path);
            assert!(p.at.0 > 0, "{}: no time", p.path);
        }
        let catalog = lib.catalog();
        assert_eq!(catalog.track_count(), good.len(), "{round}");
        for s in &good {
            let p = music.join(&s.rel).to_string_lossy().into_owned();
            let r = catalog
                .records()
                .find(|r| r.path == p)
                .unwrap_or_else(|| panic!("{round}: {} missing", s.rel));
            assert_eq!(r.title, s.title);
            assert_eq!(r.album, s.album);
        }
        assert!(catalog.records().all(|r| r.path.contains("/good/")));
    }

    // Once the broken files are gone, so are the problems.
    std::fs::remove_dir_all(&bad).unwrap();
    let r = rt.block_on(lib.scan()).unwrap();
    assert_eq!((r.files, r.unreadable), (good.len(), 0), "{r:?}");
    assert!(rt.block_on(lib.problems()).unwrap().is_empty());
    assert_eq!(lib.catalog().track_count(), good.len());
}
