//! The generated library: what each of its 520 files is (formats, variants, tags, covers), how
//! ffmpeg writes them, and an ffprobe check that the files hold what was meant.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::{ffmpeg, ffprobe, parallelism, run_parallel};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Mp3,
    Flac,
    Aac,
    Alac,
    Vorbis,
    Opus,
    Wav,
    Aiff,
}

/// One encoding of a kind: stream facts and the ffmpeg options that make them.
#[derive(Clone, Copy, Debug)]
pub struct Variant {
    pub sample_rate: i64,
    pub channels: i64,
    /// Bits per sample, for the lossless kinds.
    pub bits: Option<i64>,
    pub opts: &'static [&'static str],
}

pub const fn v(
    sample_rate: i64,
    channels: i64,
    bits: Option<i64>,
    opts: &'static [&'static str],
) -> Variant {
    Variant {
        sample_rate,
        channels,
        bits,
        opts,
    }
}

pub const MP3: &[Variant] = &[
    v(
        44100,
        2,
        None,
        &["-c:a", "libmp3lame", "-b:a", "192k", "-id3v2_version", "4"],
    ),
    v(
        48000,
        1,
        None,
        &["-c:a", "libmp3lame", "-q:a", "4", "-id3v2_version", "3"],
    ),
    v(
        32000,
        2,
        None,
        &["-c:a", "libmp3lame", "-b:a", "128k", "-id3v2_version", "4"],
    ),
    v(
        44100,
        1,
        None,
        &["-c:a", "libmp3lame", "-b:a", "96k", "-id3v2_version", "3"],
    ),
];
pub const FLAC: &[Variant] = &[
    v(44100, 2, Some(16), &["-c:a", "flac", "-sample_fmt", "s16"]),
    v(48000, 2, Some(24), &["-c:a", "flac", "-sample_fmt", "s32"]),
    v(96000, 1, Some(24), &["-c:a", "flac", "-sample_fmt", "s32"]),
    v(44100, 1, Some(16), &["-c:a", "flac", "-sample_fmt", "s16"]),
];
pub const AAC: &[Variant] = &[
    v(44100, 2, None, &["-c:a", "aac", "-b:a", "128k"]),
    v(48000, 1, None, &["-c:a", "aac", "-b:a", "96k"]),
    v(44100, 1, None, &["-c:a", "aac", "-b:a", "64k"]),
    v(48000, 2, None, &["-c:a", "aac", "-b:a", "160k"]),
];
pub const ALAC: &[Variant] = &[
    v(44100, 2, Some(16), &["-c:a", "alac", "-sample_fmt", "s16p"]),
    v(48000, 2, Some(24), &["-c:a", "alac", "-sample_fmt", "s32p"]),
    v(96000, 1, Some(24), &["-c:a", "alac", "-sample_fmt", "s32p"]),
    v(44100, 1, Some(16), &["-c:a", "alac", "-sample_fmt", "s16p"]),
];
pub const VORBIS: &[Variant] = &[
    v(44100, 2, None, &["-c:a", "libvorbis", "-q:a", "3"]),
    v(48000, 1, None, &["-c:a", "libvorbis", "-q:a", "2"]),
    v(32000, 2, None, &["-c:a", "libvorbis", "-q:a", "4"]),
    v(44100, 1, None, &["-c:a", "libvorbis", "-q:a", "1"]),
];
pub const OPUS: &[Variant] = &[
    v(48000, 2, None, &["-c:a", "libopus", "-b:a", "96k"]),
    v(48000, 1, None, &["-c:a", "libopus", "-b:a", "48k"]),
];
pub const WAV: &[Variant] = &[
    v(44100, 2, Some(16), &["-c:a", "pcm_s16le"]),
    v(48000, 2, Some(24), &["-c:a", "pcm_s24le"]),
    v(96000, 1, Some(24), &["-c:a", "pcm_s24le"]),
    v(22050, 1, Some(8), &["-c:a", "pcm_u8"]),
];
pub const AIFF: &[Variant] = &[
    v(
        44100,
        2,
        Some(16),
        &[
            "-c:a",
            "pcm_s16be",
            "-write_id3v2",
            "1",
            "-id3v2_version",
            "4",
        ],
    ),
    v(
        48000,
        1,
        Some(24),
        &[
            "-c:a",
            "pcm_s24be",
            "-write_id3v2",
            "1",
            "-id3v2_version",
            "3",
        ],
    ),
    v(
        88200,
        2,
        Some(24),
        &[
            "-c:a",
            "pcm_s24be",
            "-write_id3v2",
            "1",
            "-id3v2_version",
            "4",
        ],
    ),
    v(
        44100,
        1,
        Some(16),
        &[
            "-c:a",
            "pcm_s16be",
            "-write_id3v2",
            "1",
            "-id3v2_version",
            "3",
        ],
    ),
];

impl Kind {
    const ALL: [Kind; 8] = [
        Kind::Mp3,
        Kind::Flac,
        Kind::Aac,
        Kind::Alac,
        Kind::Vorbis,
        Kind::Opus,
        Kind::Wav,
        Kind::Aiff,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Mp3 => "MP3",
            Kind::Flac => "FLAC",
            Kind::Aac => "AAC",
            Kind::Alac => "ALAC",
            Kind::Vorbis => "Vorbis",
            Kind::Opus => "Opus",
            Kind::Wav => "WAV",
            Kind::Aiff => "AIFF",
        }
    }

    pub fn ext(self) -> &'static str {
        match self {
            Kind::Mp3 => "mp3",
            Kind::Flac => "flac",
            Kind::Aac | Kind::Alac => "m4a",
            Kind::Vorbis => "ogg",
            Kind::Opus => "opus",
            Kind::Wav => "wav",
            Kind::Aiff => "aiff",
        }
    }

    /// The scanner's (codec, format) names.
    pub fn codec_format(self) -> (&'static str, &'static str) {
        match self {
            Kind::Mp3 => ("mp3", "mp3"),
            Kind::Flac => ("flac", "flac"),
            Kind::Aac => ("aac", "m4a"),
            Kind::Alac => ("alac", "m4a"),
            Kind::Vorbis => ("vorbis", "ogg"),
            Kind::Opus => ("opus", "opus"),
            Kind::Wav => ("pcm", "wav"),
            Kind::Aiff => ("pcm", "aiff"),
        }
    }

    /// ffprobe's codec names.
    pub fn probe_codecs(self) -> &'static [&'static str] {
        match self {
            Kind::Mp3 => &["mp3"],
            Kind::Flac => &["flac"],
            Kind::Aac => &["aac"],
            Kind::Alac => &["alac"],
            Kind::Vorbis => &["vorbis"],
            Kind::Opus => &["opus"],
            Kind::Wav => &["pcm_s16le", "pcm_s24le", "pcm_u8"],
            Kind::Aiff => &["pcm_s16be", "pcm_s24be"],
        }
    }

    pub fn variants(self) -> &'static [Variant] {
        match self {
            Kind::Mp3 => MP3,
            Kind::Flac => FLAC,
            Kind::Aac => AAC,
            Kind::Alac => ALAC,
            Kind::Vorbis => VORBIS,
            Kind::Opus => OPUS,
            Kind::Wav => WAV,
            Kind::Aiff => AIFF,
        }
    }

    pub fn has_id3(self) -> bool {
        matches!(self, Kind::Mp3 | Kind::Aiff)
    }

    pub fn has_vorbis_comments(self) -> bool {
        matches!(self, Kind::Flac | Kind::Vorbis | Kind::Opus)
    }

    /// Whether ffmpeg can embed a picture in this container.
    pub fn embeds_cover(self) -> bool {
        matches!(self, Kind::Mp3 | Kind::Flac | Kind::Aac | Kind::Alac)
    }

    /// The accepted difference, in ms, between the duration the scanner reports and the length
    /// of the generated sine (at `sr` Hz), as (below, above).
    ///
    /// * PCM, FLAC, ALAC: the sample count is exact; the scanner truncates to whole ms and the
    ///   generated length is rounded to whole samples, so ±2 ms.
    /// * Vorbis, Opus: the last page's granule position gives the exact length (Opus minus its
    ///   pre-skip), so ±5 ms.
    /// * AAC: the MP4 duration counts the encoder's priming frame (1024 samples) and the
    ///   padding of the last frame (up to 1023): up to 2048 samples too long.
    /// * MP3: counted in whole frames of 1152 samples: LAME's delay (576 + 529 samples), the
    ///   padded last frame and one flush frame: up to 1105 + 2 × 1152 samples too long.
    pub fn duration_tolerance_ms(self, sr: i64) -> (i64, i64) {
        let samples_ms = |n: i64| (n * 1000 + sr - 1) / sr;
        match self {
            Kind::Flac | Kind::Alac | Kind::Wav | Kind::Aiff => (2, 2),
            Kind::Vorbis | Kind::Opus => (5, 5),
            Kind::Aac => (2, samples_ms(2048) + 2),
            Kind::Mp3 => (2, samples_ms(1105 + 2 * 1152) + 2),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Img {
    Png,
    Jpeg,
}

/// One generated track: where it goes, how it is encoded, and the tags written into it.
#[derive(Clone, Debug)]
pub struct Spec {
    pub kind: Kind,
    pub variant: Variant,
    /// Path relative to the music folder.
    pub rel: String,
    pub duration_ms: i64,
    pub freq: i64,
    pub title: String,
    pub artist: String,
    pub album: String,
    pub album_artist: String,
    pub genre: String,
    pub track: (i64, i64),
    /// Whether the track number is written as "n/N" (always, except half of the WAV files).
    pub write_total: bool,
    pub disc: (i64, i64),
    pub date: String,
    pub year: i64,
    pub composer: String,
    pub comment: String,
    pub isrc: String,
    pub compilation: bool,
    pub embed: Option<Img>,
    /// The picture beside the file the scanner should pick, relative to the music folder.
    pub folder_cover: Option<String>,
}

impl Spec {
    /// The `-metadata` values ffmpeg is given, as (ffmpeg key, value).
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        let track = if self.write_total {
            format!("{}/{}", self.track.0, self.track.1)
        } else {
            self.track.0.to_string()
        };
        let mut m = vec![
            ("title", self.title.clone()),
            ("artist", self.artist.clone()),
            ("album", self.album.clone()),
            ("genre", self.genre.clone()),
            ("date", self.date.clone()),
            ("comment", self.comment.clone()),
            ("track", track),
        ];
        if self.kind != Kind::Wav {
            m.push(("album_artist", self.album_artist.clone()));
            m.push(("disc", format!("{}/{}", self.disc.0, self.disc.1)));
            m.push(("composer", self.composer.clone()));
            if self.compilation {
                m.push(("compilation", "1".into()));
            }
        }
        if self.kind.has_id3() {
            m.push(("TSRC", self.isrc.clone()));
        } else if self.kind.has_vorbis_comments() {
            m.push(("ISRC", self.isrc.clone()));
        }
        m
    }

    /// Whether ffmpeg is told to write ID3v2.3 (else 2.4, or no ID3 at all).
    pub fn id3v23(&self) -> bool {
        self.variant
            .opts
            .windows(2)
            .any(|w| w == ["-id3v2_version", "3"])
    }

    pub fn carries_isrc(&self) -> bool {
        self.kind.has_id3() || self.kind.has_vorbis_comments()
    }
}

/// Values the files hold (ffprobe shows them) that the scanner does not read yet. Checked
/// strictly: the scanner must still return nothing (`None`, `false`) for these, so a scanner fix
/// makes this test fail until its entry here is removed.
pub fn known_gap(spec: &Spec, field: &str) -> Option<&'static str> {
    match (spec.kind, field) {
        (Kind::Mp3, "comment") => Some(
            "ffmpeg writes the comment as an ID3v2 TXXX:comment frame; \
             the scanner reads only COMM",
        ),
        (Kind::Mp3 | Kind::Aiff, "compilation") if spec.compilation && spec.id3v23() => Some(
            "in ID3v2.3 ffmpeg writes the flag as TXXX:compilation (in 2.4 as TXXX:TCMP, which \
             is read); the scanner does not read TXXX:compilation",
        ),
        _ => None,
    }
}

pub const ALBUMS_PER_KIND: usize = 5;
pub const TRACKS_PER_ALBUM: usize = 13;
pub const ALBUM_WORDS: [&str; ALBUMS_PER_KIND] = ["Ærø", "Zoë", "東京", "Ñandú", "Łódź"];
pub const TITLE_WORDS: [&str; 7] = [
    "Morning",
    "Café de l'Été",
    "Ψυχή",
    "Rock & Roll",
    "Don't \"Stop\"",
    "ночь",
    "Fin/Début",
];
pub const GENRES: [&str; 5] = ["Rock", "Jazz", "Électronique", "Hip-Hop", "Classical"];

/// The whole generated library, in a fixed order.
pub fn library_specs() -> Vec<Spec> {
    let mut specs = Vec::new();
    let mut g: usize = 0;
    for (ki, kind) in Kind::ALL.into_iter().enumerate() {
        for a in 0..ALBUMS_PER_KIND {
            let folder = format!("{}/Album {a} {}", kind.name(), ALBUM_WORDS[a]);
            let compilation = a == 4;
            let album_artist = if compilation {
                "Various Artists".to_owned()
            } else {
                format!("{} Band {a}", kind.name())
            };
            let year = 1970 + (ki * 5 + a) as i64;
            let date = if a % 2 == 0 {
                year.to_string()
            } else {
                format!("{year}-{:02}-{:02}", a + 1, a + 10)
            };
            let discs = if a % 2 == 1 { 2 } else { 1 };
            let embed = (kind.embeds_cover() && a % 2 == 0).then_some(if a == 0 {
                Img::Png
            } else {
                Img::Jpeg
            });
            let folder_cover = match kind {
                Kind::Vorbis | Kind::Opus | Kind::Wav if a % 2 == 0 => Some("cover.jpg"),
                // AIFF: folder.jpg alone, and cover.png beside folder.jpg (cover.png wins).
                Kind::Aiff if a == 0 => Some("folder.jpg"),
                Kind::Aiff if a == 2 => Some("cover.png"),
                _ => None,
            };
            for t in 0..TRACKS_PER_ALBUM {
                let (disc, track, total) = if discs == 2 && t >= 7 {
                    (2, t - 7 + 1, TRACKS_PER_ALBUM - 7)
                } else if discs == 2 {
                    (1, t + 1, 7)
                } else {
                    (1, t + 1, TRACKS_PER_ALBUM)
                };
                let variants = kind.variants();
                let artist = if compilation {
                    format!("Artist Ü{}", g % 7)
                } else if t % 5 == 4 {
                    format!("{album_artist} & Friend")
                } else {
                    album_artist.clone()
                };
                specs.push(Spec {
                    kind,
                    variant: variants[(a + t) % variants.len()],
                    rel: format!("{folder}/{disc}-{track:02} track{g:03}.{}", kind.ext()),
                    duration_ms: 500 + ((g * 137) % 1001) as i64,
                    freq: 220 + ((g * 31) % 880) as i64,
                    title: format!("Track {g:03} {}", TITLE_WORDS[g % TITLE_WORDS.len()]),
                    artist,
                    album: format!("{} Album {a} {}", kind.name(), ALBUM_WORDS[a]),
                    album_artist: album_artist.clone(),
                    genre: GENRES[(ki + a) % GENRES.len()].to_owned(),
                    track: (track as i64, total as i64),
                    write_total: kind != Kind::Wav || t % 2 == 0,
                    disc: (disc, discs),
                    date: date.clone(),
                    year,
                    composer: format!("Composer {}", t % 4),
                    comment: format!("Comment {g}: ünïcödé"),
                    isrc: format!("QZCLF{:02}{g:05}", year % 100),
                    compilation,
                    embed,
                    folder_cover: folder_cover.map(|c| format!("{folder}/{c}")),
                });
                g += 1;
            }
        }
    }
    specs
}

/// The pictures used as covers, made once per test by ffmpeg (200×200, so a 128 thumbnail is a
/// real resize).
pub struct Images {
    pub png: PathBuf,
    pub jpeg: PathBuf,
}

impl Images {
    pub fn make(dir: &Path) -> Images {
        std::fs::create_dir_all(dir).unwrap();
        let png = dir.join("cover.png");
        let jpeg = dir.join("cover.jpg");
        let src = "testsrc=size=200x200:rate=1";
        let (p, j) = (png.to_str().unwrap(), jpeg.to_str().unwrap());
        ffmpeg(&["-f", "lavfi", "-i", src, "-frames:v", "1", p]);
        ffmpeg(&["-f", "lavfi", "-i", src, "-frames:v", "1", "-q:v", "5", j]);
        Images { png, jpeg }
    }

    pub fn path(&self, img: Img) -> &Path {
        match img {
            Img::Png => &self.png,
            Img::Jpeg => &self.jpeg,
        }
    }

    pub fn bytes(&self, img: Img) -> Vec<u8> {
        std::fs::read(self.path(img)).unwrap()
    }
}

/// Writes `specs` under `music` with ffmpeg: a dozen tracks per ffmpeg run (one process makes
/// many outputs, which saves most of its start-up cost), runs spread over a few threads. Folder
/// covers are copied in too. Returns how long it took.
pub fn generate(specs: &[Spec], music: &Path, images: &Images) -> Duration {
    let started = Instant::now();
    for s in specs {
        let path = music.join(&s.rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        if let Some(c) = &s.folder_cover {
            let dst = music.join(c);
            if !dst.exists() {
                let src = if c.ends_with(".png") {
                    &images.png
                } else {
                    &images.jpeg
                };
                std::fs::copy(src, &dst).unwrap();
                if c.ends_with("cover.png") {
                    // A lower-ranked picture beside it, which must lose.
                    std::fs::copy(&images.jpeg, dst.with_file_name("folder.jpg")).unwrap();
                }
            }
        }
    }
    let batches: Vec<&[Spec]> = specs.chunks(12).collect();
    run_parallel(batches, parallelism(), |batch| {
        ffmpeg(&batch_args(batch, music, images));
    });
    started.elapsed()
}

/// One ffmpeg command line making all of `batch`.
pub fn batch_args(batch: &[Spec], music: &Path, images: &Images) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    for s in batch {
        args.extend([
            "-f".into(),
            "lavfi".into(),
            "-i".into(),
            format!(
                "sine=frequency={}:sample_rate={}:duration={}.{:03}",
                s.freq,
                s.variant.sample_rate,
                s.duration_ms / 1000,
                s.duration_ms % 1000
            ),
        ]);
    }
    let mut picture_input: HashMap<Img, usize> = HashMap::new();
    for img in batch.iter().filter_map(|s| s.embed) {
        if !picture_input.contains_key(&img) {
            picture_input.insert(img, batch.len() + picture_input.len());
            args.extend(["-i".into(), images.path(img).to_string_lossy().into_owned()]);
        }
    }
    for (i, s) in batch.iter().enumerate() {
        args.extend(["-map".into(), format!("{i}:a")]);
        if let Some(img) = s.embed {
            args.extend([
                "-map".into(),
                format!("{}:v", picture_input[&img]),
                "-c:v".into(),
                "copy".into(),
                "-disposition:v:0".into(),
                "attached_pic".into(),
            ]);
        }
        args.extend(["-ac".into(), s.variant.channels.to_string()]);
        args.extend(s.variant.opts.iter().map(|o| (*o).to_owned()));
        for (k, v) in s.metadata() {
            args.extend(["-metadata".into(), format!("{k}={v}")]);
        }
        args.push(music.join(&s.rel).to_string_lossy().into_owned());
    }
    args
}

/// Checks with ffprobe that the file holds what the spec says (so the expectations describe the
/// file), for one file of every kind and variant.
pub fn verify_with_ffprobe(specs: &[Spec], music: &Path) {
    let mut seen: HashSet<(Kind, i64, i64, Option<i64>, bool)> = HashSet::new();
    let sample: Vec<&Spec> = specs
        .iter()
        .filter(|s| {
            seen.insert((
                s.kind,
                s.variant.sample_rate,
                s.variant.channels,
                s.variant.bits,
                s.write_total,
            ))
        })
        .collect();
    let errors = std::sync::Mutex::new(Vec::<String>::new());
    run_parallel(sample, parallelism(), |s| {
        let path = music.join(&s.rel);
        let p = ffprobe(&path).unwrap_or_else(|| panic!("ffprobe cannot read {}", path.display()));
        let mut errs = Vec::new();
        if !p
            .codec
            .as_deref()
            .is_some_and(|c| s.kind.probe_codecs().contains(&c))
        {
            errs.push(format!("{}: ffprobe codec {:?}", s.rel, p.codec));
        }
        let mut want = |what: &str, got: Option<String>, expected: String| {
            if got.as_deref() != Some(expected.as_str()) {
                errs.push(format!(
                    "{}: ffprobe {what} = {got:?}, generator meant {expected:?}",
                    s.rel
                ));
            }
        };
        for (k, v) in s.metadata() {
            let key = k.to_lowercase();
            // ffprobe shows ffmpeg's generic names: TSRC stays TSRC, DESCRIPTION is "comment".
            want(&format!("tag {key}"), p.tags.get(&key).cloned(), v);
        }
        want(
            "sample rate",
            p.sample_rate.map(|x| x.to_string()),
            s.variant.sample_rate.to_string(),
        );
        want(
            "channels",
            p.channels.map(|x| x.to_string()),
            s.variant.channels.to_string(),
        );
        if let Some(bits) = s.variant.bits {
            want("bits", p.bits.map(|x| x.to_string()), bits.to_string());
        }
        want(
            "attached picture",
            Some(p.has_picture.to_string()),
            s.embed.is_some().to_string(),
        );
        errors.lock().unwrap().extend(errs);
    });
    let errors = errors.into_inner().unwrap();
    assert!(
        errors.is_empty(),
        "the generated files are not what the generator meant:\n{}",
        errors.join("\n")
    );
}
