//! Voice notes recorded in a browser. Chromium's `MediaRecorder` records Opus inside WebM;
//! WhatsApp plays a voice note only as Opus inside Ogg. The sound itself is already what
//! WhatsApp wants, so it is not transcoded: the Opus packets are taken out of the WebM
//! (Matroska) container and written into Ogg pages (RFC 7845), unchanged.
//!
//! WebM from a recorder is written as a stream: the segment and its clusters usually have an
//! "unknown" size. The reader therefore walks elements in order and steps into the container
//! elements it knows instead of relying on their sizes.

/// A WebM file holding one Opus track, rewritten as an Ogg Opus file; `None` when the bytes
/// are not that (another codec, laced blocks, a broken file), so that the caller can refuse
/// them as it would any file of the wrong type.
pub fn webm_opus_to_ogg(webm: &[u8]) -> Option<Vec<u8>> {
    let track = read_webm(webm)?;
    if track.packets.is_empty() {
        return None;
    }
    Some(write_ogg(&track))
}

/// Whether the bytes start like a WebM (EBML) file.
pub fn is_webm(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1A, 0x45, 0xDF, 0xA3])
}

#[derive(Debug, Default)]
struct OpusTrack {
    head: Option<Vec<u8>>,
    channels: u8,
    /// Samples at 48 kHz the decoder drops at the start (Matroska's CodecDelay).
    pre_skip: u16,
    packets: Vec<Vec<u8>>,
}

const EBML: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;
const TRACKS: u32 = 0x1654_AE6B;
const TRACK_ENTRY: u32 = 0xAE;
const TRACK_NUMBER: u32 = 0xD7;
const CODEC_ID: u32 = 0x86;
const CODEC_PRIVATE: u32 = 0x63A2;
const CODEC_DELAY: u32 = 0x56AA;
const AUDIO: u32 = 0xE1;
const CHANNELS: u32 = 0x9F;
const CLUSTER: u32 = 0x1F43_B675;
const SIMPLE_BLOCK: u32 = 0xA3;
const BLOCK_GROUP: u32 = 0xA0;
const BLOCK: u32 = 0xA1;

/// The elements whose children are read in place (the others are skipped or read whole).
fn is_container(id: u32) -> bool {
    matches!(
        id,
        SEGMENT | TRACKS | TRACK_ENTRY | AUDIO | CLUSTER | BLOCK_GROUP
    )
}

/// An element ID: its length is told by the leading zeros of the first byte; the marker bit
/// stays part of the ID, as Matroska writes IDs.
fn read_id(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    let first = *bytes.get(at)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    let mut id = 0u32;
    for i in 0..len {
        id = (id << 8) | u32::from(*bytes.get(at + i)?);
    }
    Some((id, len))
}

/// A size (or a block's track number): the marker bit removed; `None` as the value when every
/// bit is set, which means "unknown".
fn read_vint(bytes: &[u8], at: usize) -> Option<(Option<u64>, usize)> {
    let first = *bytes.get(at)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 8 {
        return None;
    }
    let mut value = u64::from(first) & (0xFF >> len);
    let mut all_ones = value == (0xFF >> len);
    for i in 1..len {
        let b = *bytes.get(at + i)?;
        all_ones &= b == 0xFF;
        value = (value << 8) | u64::from(b);
    }
    Some(((!all_ones).then_some(value), len))
}

fn read_uint(data: &[u8]) -> u64 {
    data.iter()
        .take(8)
        .fold(0u64, |v, b| (v << 8) | u64::from(*b))
}

fn read_webm(bytes: &[u8]) -> Option<OpusTrack> {
    if !is_webm(bytes) {
        return None;
    }
    let mut track = OpusTrack::default();
    // Per track entry: its number and codec, known once the entry has been read.
    let mut entry: (Option<u64>, Option<Vec<u8>>) = (None, None);
    let mut opus_track: Option<u64> = None;
    let mut at = 0;
    while at < bytes.len() {
        let (id, id_len) = read_id(bytes, at)?;
        let (size, size_len) = read_vint(bytes, at + id_len)?;
        let start = at + id_len + size_len;
        if id == TRACK_ENTRY {
            entry = (None, None);
        }
        if is_container(id) {
            at = start;
            continue;
        }
        // Anything else must say how long it is; a stream cut short ends the reading.
        let size = usize::try_from(size?).ok()?;
        let Some(data) = bytes.get(start..start.checked_add(size)?) else {
            break;
        };
        match id {
            EBML => {}
            TRACK_NUMBER => entry.0 = Some(read_uint(data)),
            CODEC_ID if data == b"A_OPUS" => {
                opus_track = opus_track.or(entry.0);
                entry.1 = Some(data.to_vec());
            }
            CODEC_PRIVATE => track.head = Some(data.to_vec()),
            CODEC_DELAY => {
                // Nanoseconds, to samples at 48 kHz.
                track.pre_skip = u16::try_from(read_uint(data) * 48 / 1_000_000).unwrap_or(0)
            }
            CHANNELS => track.channels = u8::try_from(read_uint(data)).unwrap_or(1),
            SIMPLE_BLOCK | BLOCK => {
                // The track number may come after the codec in its entry.
                if opus_track.is_none() && entry.1.is_some() {
                    opus_track = entry.0;
                }
                let (number, number_len) = read_vint(data, 0)?;
                let flags = *data.get(number_len + 2)?;
                if number == opus_track.or(Some(1)) {
                    // Laced blocks put several frames in one; recorders do not write them.
                    if flags & 0x06 != 0 {
                        return None;
                    }
                    let frame = data.get(number_len + 3..)?;
                    if frame.is_empty() {
                        return None;
                    }
                    track.packets.push(frame.to_vec());
                }
            }
            _ => {}
        }
        at = start + size;
    }
    opus_track?;
    if track.channels == 0 {
        track.channels = track
            .head
            .as_ref()
            .and_then(|h| h.get(9).copied())
            .unwrap_or(1);
    }
    Some(track)
}

/// How many samples (at 48 kHz) an Opus packet decodes to, from its TOC byte (RFC 6716 §3.1).
fn opus_samples(packet: &[u8]) -> u64 {
    let Some(&toc) = packet.first() else { return 0 };
    let config = toc >> 3;
    let per_frame: u64 = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |b| u64::from(b & 0x3F)),
    };
    per_frame * frames
}

/// The identification header: the one WebM carries, else one made from what it says.
fn opus_head(track: &OpusTrack) -> Vec<u8> {
    if let Some(head) = track.head.as_ref().filter(|h| h.starts_with(b"OpusHead")) {
        return head.clone();
    }
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(track.channels.max(1));
    head.extend_from_slice(&track.pre_skip.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    head
}

fn opus_tags() -> Vec<u8> {
    let vendor = b"wasl";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    tags
}

/// The stream's serial number; one stream per file, so any constant will do.
const SERIAL: u32 = 0x7761_736C;

struct OggWriter {
    out: Vec<u8>,
    sequence: u32,
}

impl OggWriter {
    /// One page holding whole packets (each laced as 255-byte segments and a shorter last).
    fn page(&mut self, packets: &[&[u8]], granule: u64, flags: u8) {
        let mut lacing = Vec::new();
        for p in packets {
            lacing.extend(std::iter::repeat_n(255u8, p.len() / 255));
            lacing.push((p.len() % 255) as u8);
        }
        let start = self.out.len();
        self.out.extend_from_slice(b"OggS");
        self.out.push(0);
        self.out.push(flags);
        self.out.extend_from_slice(&granule.to_le_bytes());
        self.out.extend_from_slice(&SERIAL.to_le_bytes());
        self.out.extend_from_slice(&self.sequence.to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
        self.out.push(lacing.len() as u8);
        self.out.extend_from_slice(&lacing);
        for p in packets {
            self.out.extend_from_slice(p);
        }
        let crc = ogg_crc(&self.out[start..]);
        self.out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
        self.sequence += 1;
    }
}

const BOS: u8 = 0x02;
const EOS: u8 = 0x04;

fn write_ogg(track: &OpusTrack) -> Vec<u8> {
    let mut ogg = OggWriter {
        out: Vec::with_capacity(track.packets.iter().map(Vec::len).sum::<usize>() + 4096),
        sequence: 0,
    };
    ogg.page(&[&opus_head(track)], 0, BOS);
    ogg.page(&[&opus_tags()], 0, 0);
    let mut granule = 0u64;
    let mut page: Vec<&[u8]> = Vec::new();
    let mut segments = 0;
    let last = track.packets.len() - 1;
    for (i, packet) in track.packets.iter().enumerate() {
        let needed = packet.len() / 255 + 1;
        // Pages of about a second (50 packets of 20 ms), never over 255 segments.
        if !page.is_empty() && (segments + needed > 255 || page.len() == 50) {
            ogg.page(&page, granule, 0);
            page.clear();
            segments = 0;
        }
        page.push(packet);
        segments += needed;
        granule += opus_samples(packet);
        if i == last {
            ogg.page(&page, granule, EOS);
        }
    }
    ogg.out
}

/// Ogg's CRC-32: polynomial 0x04C11DB7, most significant bit first, no reflection, starting
/// from zero, over the page with its checksum field zeroed.
fn ogg_crc(page: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in page {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An element ID as written: its bytes without the leading zeros.
    fn id_bytes(id: u32) -> Vec<u8> {
        id.to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect()
    }

    /// An element with a known size (sizes written on 8 bytes, as muxers may).
    fn element(id: u32, data: &[u8]) -> Vec<u8> {
        let mut out = id_bytes(id);
        out.push(0x01);
        out.extend_from_slice(&(data.len() as u64).to_be_bytes()[1..]);
        out.extend_from_slice(data);
        out
    }

    /// A container of unknown size, as a recorder streams it.
    fn streamed(id: u32) -> Vec<u8> {
        let mut out = id_bytes(id);
        out.extend_from_slice(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]);
        out
    }

    fn simple_block(track: u8, frame: &[u8]) -> Vec<u8> {
        let mut data = vec![0x80 | track, 0x00, 0x00, 0x80];
        data.extend_from_slice(frame);
        element(SIMPLE_BLOCK, &data)
    }

    /// What Chromium's recorder writes: a streamed segment, the Opus track, streamed clusters.
    fn recording(packets: &[Vec<u8>]) -> Vec<u8> {
        let mut head = b"OpusHead".to_vec();
        head.extend_from_slice(&[1, 1, 0x38, 0x01, 0x80, 0xBB, 0, 0, 0, 0, 0]);
        let entry = [
            element(TRACK_NUMBER, &[1]),
            element(CODEC_ID, b"A_OPUS"),
            element(CODEC_PRIVATE, &head),
            element(AUDIO, &element(CHANNELS, &[1])),
        ]
        .concat();
        let mut webm = element(EBML, &element(0x4282, b"webm"));
        webm.extend(streamed(SEGMENT));
        webm.extend(element(TRACKS, &element(TRACK_ENTRY, &entry)));
        for chunk in packets.chunks(3) {
            webm.extend(streamed(CLUSTER));
            webm.extend(element(0xE7, &[0]));
            for p in chunk {
                webm.extend(simple_block(1, p));
            }
        }
        webm
    }

    /// The packets of an Ogg file, each page's checksum, sequence and granule checked.
    fn read_ogg(ogg: &[u8]) -> (Vec<Vec<u8>>, Vec<(u8, u64)>) {
        let (mut packets, mut pages, mut at, mut sequence) = (Vec::new(), Vec::new(), 0, 0u32);
        let mut partial = Vec::new();
        while at < ogg.len() {
            assert_eq!(&ogg[at..at + 4], b"OggS");
            let flags = ogg[at + 5];
            let granule = u64::from_le_bytes(ogg[at + 6..at + 14].try_into().unwrap());
            assert_eq!(
                u32::from_le_bytes(ogg[at + 18..at + 22].try_into().unwrap()),
                sequence
            );
            let stored = u32::from_le_bytes(ogg[at + 22..at + 26].try_into().unwrap());
            let count = usize::from(ogg[at + 26]);
            let lacing = &ogg[at + 27..at + 27 + count];
            let body_len: usize = lacing.iter().map(|l| usize::from(*l)).sum();
            let end = at + 27 + count + body_len;
            let mut page = ogg[at..end].to_vec();
            page[22..26].copy_from_slice(&[0; 4]);
            assert_eq!(ogg_crc(&page), stored, "page {sequence}'s checksum");
            let mut body = at + 27 + count;
            for l in lacing {
                partial.extend_from_slice(&ogg[body..body + usize::from(*l)]);
                body += usize::from(*l);
                if *l < 255 {
                    packets.push(std::mem::take(&mut partial));
                }
            }
            pages.push((flags, granule));
            sequence += 1;
            at = end;
        }
        (packets, pages)
    }

    #[test]
    fn a_recorded_webm_becomes_an_ogg_opus_file_with_the_same_packets() {
        // 20 ms CELT packets (config 31, one frame), one longer than a segment.
        let mut packets: Vec<Vec<u8>> = (0..120u8).map(|i| vec![0xF8, i, i, i]).collect();
        packets[7] = [vec![0xF8], vec![0x55; 600]].concat();
        let ogg = webm_opus_to_ogg(&recording(&packets)).expect("an Opus recording");
        assert_eq!(crate::messaging::media::sniff(&ogg), Some("audio/opus"));
        let (read, pages) = read_ogg(&ogg);
        assert!(read[0].starts_with(b"OpusHead"));
        assert!(read[1].starts_with(b"OpusTags"));
        assert_eq!(&read[2..], &packets[..]);
        assert_eq!(pages[0], (BOS, 0));
        let (flags, granule) = *pages.last().unwrap();
        assert_eq!(flags, EOS);
        assert_eq!(granule, 120 * 960, "2.4 s at 48 kHz");
        assert!(pages.len() > 4, "about a second per page: {pages:?}");
        assert!(pages.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn samples_per_packet_follow_the_toc_byte() {
        assert_eq!(opus_samples(&[0xF8]), 960); // CELT 20 ms
        assert_eq!(opus_samples(&[0x08]), 960); // SILK NB 20 ms
        assert_eq!(opus_samples(&[0x18]), 2880); // SILK NB 60 ms
        assert_eq!(opus_samples(&[0xF9]), 1920); // two frames
        assert_eq!(opus_samples(&[0xFB, 0x03]), 2880); // three frames, code 3
        assert_eq!(opus_samples(&[]), 0);
    }

    #[test]
    fn what_is_not_a_webm_opus_recording_is_refused() {
        assert!(webm_opus_to_ogg(b"OggS not webm").is_none());
        assert!(webm_opus_to_ogg(&[0x1A, 0x45, 0xDF]).is_none());
        // Another codec: no Opus track.
        let mut vorbis = element(EBML, &[]);
        vorbis.extend(streamed(SEGMENT));
        vorbis.extend(element(
            TRACKS,
            &element(
                TRACK_ENTRY,
                &[element(TRACK_NUMBER, &[1]), element(CODEC_ID, b"A_VORBIS")].concat(),
            ),
        ));
        vorbis.extend(simple_block(1, &[1, 2, 3]));
        assert!(webm_opus_to_ogg(&vorbis).is_none());
        // An Opus track without a single packet.
        assert!(webm_opus_to_ogg(&recording(&[])).is_none());
        // Cut in the middle of a block: what came before is kept.
        let whole = recording(&[vec![0xF8, 1], vec![0xF8, 2], vec![0xF8, 3], vec![0xF8, 4]]);
        let cut = &whole[..whole.len() - 2];
        let (read, _) = read_ogg(&webm_opus_to_ogg(cut).expect("the packets before the cut"));
        assert_eq!(read.len(), 2 + 3);
    }
}
