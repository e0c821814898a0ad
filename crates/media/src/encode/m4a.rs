//! A small MP4 (M4A) writer for one audio track: AAC or ALAC packets go straight into `mdat`
//! as they are encoded; the index (`moov`) is written after them when the track ends.
//!
//! What it writes: `ftyp` (M4A), `mdat`, and `moov` with `mvhd`, one `trak` (`tkhd`, an edit
//! list in `edts/elst`, `mdia` with `mdhd`, `hdlr` and `minf/stbl`: `stsd`, `stts`, `stsc`,
//! `stsz`, `stco` or `co64`) and, for AAC, an `iTunSMPB` item in `udta/meta/ilst` giving the
//! same priming and padding as the edit list for players that read only that. Memory grows with
//! the index only: four bytes per packet (about 100 kB for ten minutes of AAC).

use std::fs::File;
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::MediaError;

/// Packets per chunk in `stsc`/`stco`: about a second of AAC at 44.1 kHz.
const PACKETS_PER_CHUNK: u32 = 44;

/// The codec box inside the sample entry.
pub(super) enum SampleEntry {
    /// `mp4a` with an `esds` holding the AudioSpecificConfig.
    Aac {
        /// The encoder's AudioSpecificConfig.
        config: Vec<u8>,
        /// Average bit rate in bits per second.
        bitrate: u32,
    },
    /// `alac` with the encoder's magic cookie (ALACSpecificConfig).
    Alac {
        /// The cookie, as the encoder gives it at the end.
        cookie: Vec<u8>,
        /// Bits per sample.
        bits: u16,
    },
}

/// Gapless trimming: frames to skip at the start and frames that are the real audio.
#[derive(Debug, Clone, Copy)]
pub(super) struct Trim {
    pub priming: u64,
    pub frames: u64,
}

pub(super) struct M4aWriter {
    path: PathBuf,
    out: BufWriter<File>,
    mdat_start: u64,
    written: u64,
    sizes: Vec<u32>,
    /// Run-length (count, frames) of packet durations, as `stts` stores them.
    durations: Vec<(u32, u32)>,
    sample_rate: u32,
    channels: u16,
}

impl M4aWriter {
    pub(super) fn create(path: &Path, sample_rate: u32, channels: u16) -> Result<Self, MediaError> {
        let file = File::create(path).map_err(|e| MediaError::io(path, e))?;
        let mut writer = M4aWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(1 << 16, file),
            mdat_start: 0,
            written: 0,
            sizes: Vec::new(),
            durations: Vec::new(),
            sample_rate,
            channels,
        };
        let mut ftyp = Vec::new();
        ftyp.extend_from_slice(b"M4A ");
        ftyp.extend_from_slice(&0u32.to_be_bytes());
        for brand in [b"M4A ", b"mp42", b"isom"] {
            ftyp.extend_from_slice(brand);
        }
        let mut head = boxed(b"ftyp", &ftyp);
        // A 64-bit `mdat` header (size 1 + largesize) so any length fits.
        writer.mdat_start = head.len() as u64;
        head.extend_from_slice(&1u32.to_be_bytes());
        head.extend_from_slice(b"mdat");
        head.extend_from_slice(&0u64.to_be_bytes());
        writer.write_all(&head)?;
        Ok(writer)
    }

    fn write_all(&mut self, data: &[u8]) -> Result<(), MediaError> {
        self.out
            .write_all(data)
            .map_err(|e| MediaError::io(&self.path, e))
    }

    /// Appends one encoded packet that decodes to `frames` frames.
    pub(super) fn packet(&mut self, data: &[u8], frames: u32) -> Result<(), MediaError> {
        let size = u32::try_from(data.len())
            .map_err(|_| MediaError::encode("M4A", "packet larger than 4 GiB"))?;
        self.write_all(data)?;
        self.written += data.len() as u64;
        self.sizes.push(size);
        match self.durations.last_mut() {
            Some((count, d)) if *d == frames => *count += 1,
            _ => self.durations.push((1, frames)),
        }
        Ok(())
    }

    /// Frames in all packets written so far.
    pub(super) fn media_frames(&self) -> u64 {
        self.durations
            .iter()
            .map(|&(n, d)| u64::from(n) * u64::from(d))
            .sum()
    }

    /// Writes the index and closes the file.
    pub(super) fn finish(mut self, entry: SampleEntry, trim: Trim) -> Result<PathBuf, MediaError> {
        let media = self.media_frames();
        let moov = self.moov(&entry, trim, media);
        self.write_all(&moov)?;
        let mdat_size = 16 + self.written;
        let path = self.path.clone();
        let io = |e| MediaError::io(&path, e);
        self.out
            .seek(SeekFrom::Start(self.mdat_start + 8))
            .map_err(io)?;
        self.out.write_all(&mdat_size.to_be_bytes()).map_err(io)?;
        let file = self.out.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_data().map_err(io)?;
        Ok(path)
    }

    fn moov(&self, entry: &SampleEntry, trim: Trim, media: u64) -> Vec<u8> {
        let rate = self.sample_rate;
        let mut trak = boxed(b"tkhd", &tkhd(trim.frames));
        trak.extend(boxed(b"edts", &boxed(b"elst", &elst(trim))));
        let mut mdia = boxed(b"mdhd", &mdhd(rate, media));
        mdia.extend(boxed(b"hdlr", &hdlr(b"soun", b"SoundHandler")));
        let mut minf = boxed(b"smhd", &[0u8; 8]);
        let url = boxed(b"url ", &[0, 0, 0, 1]);
        let mut dref = vec![0, 0, 0, 0, 0, 0, 0, 1];
        dref.extend(url);
        minf.extend(boxed(b"dinf", &boxed(b"dref", &dref)));
        minf.extend(boxed(b"stbl", &self.stbl(entry)));
        mdia.extend(boxed(b"minf", &minf));
        trak.extend(boxed(b"mdia", &mdia));
        let mut moov = boxed(b"mvhd", &mvhd(rate, trim.frames));
        moov.extend(boxed(b"trak", &trak));
        if let SampleEntry::Aac { .. } = entry {
            moov.extend(boxed(b"udta", &itunes_smpb(trim, media)));
        }
        boxed(b"moov", &moov)
    }

    fn stbl(&self, entry: &SampleEntry) -> Vec<u8> {
        let mut stsd = vec![0, 0, 0, 0, 0, 0, 0, 1];
        stsd.extend(sample_entry(entry, self.sample_rate, self.channels));
        let mut stbl = boxed(b"stsd", &stsd);
        let mut stts = full(self.durations.len() as u32);
        for &(count, delta) in &self.durations {
            stts.extend_from_slice(&count.to_be_bytes());
            stts.extend_from_slice(&delta.to_be_bytes());
        }
        stbl.extend(boxed(b"stts", &stts));
        let packets = self.sizes.len() as u32;
        let chunks = packets.div_ceil(PACKETS_PER_CHUNK);
        let last = packets - (chunks.saturating_sub(1)) * PACKETS_PER_CHUNK;
        let mut runs = vec![(1u32, PACKETS_PER_CHUNK.min(packets))];
        if chunks > 1 && last != PACKETS_PER_CHUNK {
            runs.push((chunks, last));
        }
        let mut stsc = full(if packets == 0 { 0 } else { runs.len() as u32 });
        for (first, per) in runs.iter().filter(|_| packets > 0) {
            stsc.extend_from_slice(&first.to_be_bytes());
            stsc.extend_from_slice(&per.to_be_bytes());
            stsc.extend_from_slice(&1u32.to_be_bytes());
        }
        stbl.extend(boxed(b"stsc", &stsc));
        let mut stsz = full(0);
        stsz.extend_from_slice(&packets.to_be_bytes());
        for size in &self.sizes {
            stsz.extend_from_slice(&size.to_be_bytes());
        }
        stbl.extend(boxed(b"stsz", &stsz));
        let data_start = self.mdat_start + 16;
        let mut offsets = Vec::with_capacity(chunks as usize);
        let mut at = data_start;
        for chunk in self.sizes.chunks(PACKETS_PER_CHUNK as usize) {
            offsets.push(at);
            at += chunk.iter().map(|&s| u64::from(s)).sum::<u64>();
        }
        if at <= u64::from(u32::MAX) {
            let mut stco = full(offsets.len() as u32);
            for o in offsets {
                stco.extend_from_slice(&(o as u32).to_be_bytes());
            }
            stbl.extend(boxed(b"stco", &stco));
        } else {
            let mut co64 = full(offsets.len() as u32);
            for o in offsets {
                co64.extend_from_slice(&o.to_be_bytes());
            }
            stbl.extend(boxed(b"co64", &co64));
        }
        stbl
    }
}

/// A box: 32-bit size, type, payload.
pub(super) fn boxed(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(payload.len() + 8);
    b.extend_from_slice(&((payload.len() + 8) as u32).to_be_bytes());
    b.extend_from_slice(kind);
    b.extend_from_slice(payload);
    b
}

/// A full box's version-0 header followed by a 32-bit entry count.
fn full(count: u32) -> Vec<u8> {
    let mut b = vec![0, 0, 0, 0];
    b.extend_from_slice(&count.to_be_bytes());
    b
}

const MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

/// Version 1 (64-bit times) so no duration overflows.
fn mvhd(timescale: u32, duration: u64) -> Vec<u8> {
    let mut b = vec![1, 0, 0, 0];
    b.extend_from_slice(&[0; 16]); // creation and modification time
    b.extend_from_slice(&timescale.to_be_bytes());
    b.extend_from_slice(&duration.to_be_bytes());
    b.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    b.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    b.extend_from_slice(&[0; 10]);
    MATRIX
        .iter()
        .for_each(|m| b.extend_from_slice(&m.to_be_bytes()));
    b.extend_from_slice(&[0; 24]); // pre-defined
    b.extend_from_slice(&2u32.to_be_bytes()); // next track id
    b
}

fn tkhd(duration: u64) -> Vec<u8> {
    let mut b = vec![1, 0, 0, 7]; // enabled, in movie, in preview
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&1u32.to_be_bytes()); // track id
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&duration.to_be_bytes());
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&[0; 4]); // layer, alternate group
    b.extend_from_slice(&0x0100u16.to_be_bytes()); // volume
    b.extend_from_slice(&[0; 2]);
    MATRIX
        .iter()
        .for_each(|m| b.extend_from_slice(&m.to_be_bytes()));
    b.extend_from_slice(&[0; 8]); // width, height
    b
}

/// One edit: play `frames` frames of media starting at `priming`.
fn elst(trim: Trim) -> Vec<u8> {
    let mut b = vec![1, 0, 0, 0];
    b.extend_from_slice(&1u32.to_be_bytes());
    b.extend_from_slice(&trim.frames.to_be_bytes());
    b.extend_from_slice(&(trim.priming as i64).to_be_bytes());
    b.extend_from_slice(&1u16.to_be_bytes()); // rate 1.0
    b.extend_from_slice(&0u16.to_be_bytes());
    b
}

fn mdhd(timescale: u32, duration: u64) -> Vec<u8> {
    let mut b = vec![1, 0, 0, 0];
    b.extend_from_slice(&[0; 16]);
    b.extend_from_slice(&timescale.to_be_bytes());
    b.extend_from_slice(&duration.to_be_bytes());
    b.extend_from_slice(&0x55c4u16.to_be_bytes()); // language "und"
    b.extend_from_slice(&[0; 2]);
    b
}

/// An `hdlr` box with an empty name, as `meta` carries.
pub(super) fn handler_box(handler: &[u8; 4]) -> Vec<u8> {
    boxed(b"hdlr", &hdlr(handler, b""))
}

fn hdlr(handler: &[u8; 4], name: &[u8]) -> Vec<u8> {
    let mut b = vec![0; 8];
    b.extend_from_slice(handler);
    b.extend_from_slice(&[0; 12]);
    b.extend_from_slice(name);
    b.push(0);
    b
}

fn sample_entry(entry: &SampleEntry, rate: u32, channels: u16) -> Vec<u8> {
    let bits = match entry {
        SampleEntry::Aac { .. } => 16,
        SampleEntry::Alac { bits, .. } => *bits,
    };
    let mut b = vec![0; 6];
    b.extend_from_slice(&1u16.to_be_bytes()); // data reference index
    b.extend_from_slice(&[0; 8]);
    b.extend_from_slice(&channels.to_be_bytes());
    b.extend_from_slice(&bits.to_be_bytes());
    b.extend_from_slice(&[0; 4]);
    // 16.16 fixed point; rates above 65,535 Hz do not fit and the codec config carries them.
    let fixed = if rate <= 0xffff { rate << 16 } else { 0 };
    b.extend_from_slice(&fixed.to_be_bytes());
    match entry {
        SampleEntry::Aac { config, bitrate } => {
            b.extend(boxed(b"esds", &esds(config, *bitrate)));
            boxed(b"mp4a", &b)
        }
        SampleEntry::Alac { cookie, .. } => {
            let mut alac = vec![0, 0, 0, 0];
            alac.extend_from_slice(cookie);
            b.extend(boxed(b"alac", &alac));
            boxed(b"alac", &b)
        }
    }
}

/// An MPEG-4 descriptor: tag, length (one byte each while under 128), payload.
fn descriptor(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![tag];
    let mut len = payload.len();
    let mut bytes = vec![(len & 0x7f) as u8];
    len >>= 7;
    while len > 0 {
        bytes.push((len & 0x7f) as u8 | 0x80);
        len >>= 7;
    }
    bytes.reverse();
    b.extend(bytes);
    b.extend_from_slice(payload);
    b
}

fn esds(config: &[u8], bitrate: u32) -> Vec<u8> {
    let mut dcd = vec![0x40, 0x15]; // MPEG-4 audio; audio stream
    dcd.extend_from_slice(&[0, 0x18, 0]); // buffer size (6,144 bytes, one max AAC frame)
    dcd.extend_from_slice(&bitrate.to_be_bytes()); // max
    dcd.extend_from_slice(&bitrate.to_be_bytes()); // average
    dcd.extend(descriptor(0x05, config));
    let mut es = vec![0, 1, 0]; // ES id 1, no flags
    es.extend(descriptor(0x04, &dcd));
    es.extend(descriptor(0x06, &[0x02]));
    let mut b = vec![0, 0, 0, 0];
    b.extend(descriptor(0x03, &es));
    b
}

/// `meta` with `hdlr mdir` and `ilst` holding `----:com.apple.iTunes:iTunSMPB`.
fn itunes_smpb(trim: Trim, media: u64) -> Vec<u8> {
    let padding = media.saturating_sub(trim.priming + trim.frames);
    let text = format!(
        " 00000000 {:08X} {:08X} {:016X} 00000000 00000000 00000000 00000000 00000000 00000000 00000000 00000000",
        trim.priming, padding, trim.frames
    );
    let mut mean = vec![0, 0, 0, 0];
    mean.extend_from_slice(b"com.apple.iTunes");
    let mut name = vec![0, 0, 0, 0];
    name.extend_from_slice(b"iTunSMPB");
    let mut data = vec![0, 0, 0, 1, 0, 0, 0, 0]; // UTF-8 text
    data.extend_from_slice(text.as_bytes());
    let mut item = boxed(b"mean", &mean);
    item.extend(boxed(b"name", &name));
    item.extend(boxed(b"data", &data));
    let ilst = boxed(b"ilst", &boxed(b"----", &item));
    let mut meta = vec![0, 0, 0, 0];
    meta.extend(handler_box(b"mdir"));
    meta.extend(ilst);
    boxed(b"meta", &meta)
}
