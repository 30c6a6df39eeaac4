//! The QSPI flash image of a container (HARDWARE.md, "Flash image"): a small header that names,
//! per layer, the decompressor parameters and, per lane, where its stream lies in the flash, then
//! the lane streams themselves, each on a word boundary. Every header field is little-endian and
//! every record a whole number of 32-bit words, so the flash reader can fetch the header as words.

use crate::codec::LayerParams;
use crate::container::Container;
use lc_format::Mode;

/// Image magic.
pub const FLASH_MAGIC: [u8; 4] = *b"LCF1";
/// Image version written and accepted.
pub const FLASH_VERSION: u8 = 1;
/// The largest image: what a 24-bit flash address reaches (16 MiB).
pub const FLASH_BYTES: usize = 1 << 24;
/// Bytes of the fixed header before the layer records.
const HEADER_BYTES: usize = 12;
/// Bytes of a layer record before its lane entries.
const LAYER_BYTES: usize = 8;
/// Bytes of one lane entry.
const LANE_BYTES: usize = 12;

/// Where one lane stream lies in the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashLane {
    /// Byte offset of the stream from the start of the image (a multiple of the word size).
    pub offset: u32,
    /// Exact stream length in bits.
    pub length_bits: u32,
    /// Weights the lane decodes.
    pub count: u32,
}

/// One layer of the image: what the decompressor is configured with and its lanes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashLayer {
    /// Decoder parameters (`eps` is not stored and reads back as 0).
    pub params: LayerParams,
    /// One entry per lane.
    pub lanes: Vec<FlashLane>,
}

/// The parsed header of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlashImage {
    /// Memory word width of the lanes the streams are padded for (32 or 64).
    pub word_bits: u8,
    /// Total image bytes.
    pub bytes: u32,
    /// Layers in model order.
    pub layers: Vec<FlashLayer>,
}

/// Why an image could not be built or parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlashImageError {
    /// The image would not fit the flash.
    #[error("the flash image needs {0} bytes, more than the 16 MiB a 24-bit address reaches")]
    TooLarge(usize),
    /// A count does not fit its header field.
    #[error("{0} does not fit the flash image header")]
    Overflow(String),
    /// The bytes end before a field.
    #[error("truncated flash image: {0} bytes, field at byte {1} missing")]
    Truncated(usize, usize),
    /// Not a flash image.
    #[error("not a LineCompress flash image (magic \"LCF1\")")]
    BadMagic,
    /// Unsupported version.
    #[error("flash image version {0}, expected {FLASH_VERSION}")]
    BadVersion(u8),
    /// A field out of range or inconsistent.
    #[error("bad field at byte {0}: {1}")]
    BadField(usize, String),
}

/// Lay out the flash image of `container`: header, then every lane stream at a multiple of the
/// container's word size, zero-padded to it.
pub fn build_flash_image(container: &Container) -> Result<Vec<u8>, FlashImageError> {
    let overflow = |what: String| FlashImageError::Overflow(what);
    let word = container.word_bits as usize / 8;
    let header: usize = HEADER_BYTES
        + container
            .layers
            .iter()
            .map(|l| LAYER_BYTES + LANE_BYTES * l.lanes.len())
            .sum::<usize>();
    let mut data_at = header.div_ceil(word) * word;
    let mut out = Vec::with_capacity(data_at);
    out.extend_from_slice(&FLASH_MAGIC);
    out.extend_from_slice(&[FLASH_VERSION, container.word_bits]);
    let layers = u16::try_from(container.layers.len())
        .map_err(|_| overflow(format!("{} layers", container.layers.len())))?;
    out.extend_from_slice(&layers.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // total bytes, written at the end
    for layer in &container.layers {
        let lanes = u16::try_from(layer.lanes.len()).map_err(|_| {
            overflow(format!(
                "layer '{}': {} lanes",
                layer.name,
                layer.lanes.len()
            ))
        })?;
        let p = &layer.params;
        out.extend_from_slice(&lanes.to_le_bytes());
        out.extend_from_slice(&[p.bits, p.mode.code()]);
        out.extend_from_slice(&[p.frac_bits, p.len_bits, p.slope_bits, p.shift]);
        for (l, lane) in layer.lanes.iter().enumerate() {
            let field = |v: u64, what: &str| {
                u32::try_from(v)
                    .map_err(|_| overflow(format!("layer '{}' lane {l}: {what} {v}", layer.name)))
            };
            out.extend_from_slice(&field(data_at as u64, "offset")?.to_le_bytes());
            out.extend_from_slice(&field(lane.length_bits, "length_bits")?.to_le_bytes());
            out.extend_from_slice(&field(lane.count, "count")?.to_le_bytes());
            data_at += lane.bytes.len().div_ceil(word) * word;
        }
    }
    if data_at > FLASH_BYTES {
        return Err(FlashImageError::TooLarge(data_at));
    }
    out.resize(header.div_ceil(word) * word, 0);
    for lane in container.layers.iter().flat_map(|l| &l.lanes) {
        out.extend_from_slice(&lane.bytes);
        out.resize(out.len().div_ceil(word) * word, 0);
    }
    debug_assert_eq!(out.len(), data_at);
    let total = out.len() as u32;
    out[8..12].copy_from_slice(&total.to_le_bytes());
    Ok(out)
}

/// Little-endian field reads with the byte offset in every error.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], FlashImageError> {
        self.0
            .get(at..at + N)
            .map(|b| b.try_into().expect("N bytes"))
            .ok_or(FlashImageError::Truncated(self.0.len(), at))
    }
    fn u16(&self, at: usize) -> Result<u16, FlashImageError> {
        self.bytes(at).map(u16::from_le_bytes)
    }
    fn u32(&self, at: usize) -> Result<u32, FlashImageError> {
        self.bytes(at).map(u32::from_le_bytes)
    }
}

/// Parse and check an image header: every lane must lie inside the image, word-aligned, after
/// the header, with parameters FORMAT.md accepts.
pub fn parse_flash_image(image: &[u8]) -> Result<FlashImage, FlashImageError> {
    let f = Fields(image);
    if f.bytes::<4>(0)? != FLASH_MAGIC {
        return Err(FlashImageError::BadMagic);
    }
    let [version, word_bits] = f.bytes::<2>(4)?;
    if version != FLASH_VERSION {
        return Err(FlashImageError::BadVersion(version));
    }
    let bad = |at: usize, detail: String| FlashImageError::BadField(at, detail);
    if word_bits != 32 && word_bits != 64 {
        return Err(bad(
            5,
            format!("word_bits = {word_bits}, expected 32 or 64"),
        ));
    }
    let word = word_bits as u64 / 8;
    let layer_count = f.u16(6)?;
    let bytes = f.u32(8)?;
    if bytes as usize != image.len() {
        return Err(bad(
            8,
            format!("image_bytes = {bytes} but the image holds {}", image.len()),
        ));
    }
    let mut at = HEADER_BYTES;
    let mut layers = Vec::with_capacity(layer_count as usize);
    for i in 0..layer_count {
        let lane_count = f.u16(at)?;
        let [bits, mode, frac_bits, len_bits, slope_bits, shift] = f.bytes::<6>(at + 2)?;
        let mode =
            Mode::from_code(mode).ok_or_else(|| bad(at + 3, format!("layer {i}: mode {mode}")))?;
        let params = LayerParams {
            bits,
            mode,
            eps: 0,
            frac_bits,
            len_bits,
            slope_bits,
            shift,
        };
        params
            .validate()
            .map_err(|e| bad(at + 2, format!("layer {i}: {e}")))?;
        if lane_count == 0 {
            return Err(bad(at, format!("layer {i} has no lanes")));
        }
        let lanes_at = at + LAYER_BYTES;
        at = lanes_at + LANE_BYTES * lane_count as usize;
        let lanes = (0..lane_count as usize)
            .map(|l| {
                let e = lanes_at + LANE_BYTES * l;
                Ok(FlashLane {
                    offset: f.u32(e)?,
                    length_bits: f.u32(e + 4)?,
                    count: f.u32(e + 8)?,
                })
            })
            .collect::<Result<Vec<_>, FlashImageError>>()?;
        layers.push((lanes_at, FlashLayer { params, lanes }));
    }
    let header = at as u64;
    for (i, (lanes_at, layer)) in layers.iter().enumerate() {
        for (l, lane) in layer.lanes.iter().enumerate() {
            let start = lane.offset as u64;
            let end = start + (lane.length_bits as u64).div_ceil(8);
            if !start.is_multiple_of(word) || start < header || end > bytes as u64 {
                return Err(bad(
                    lanes_at + LANE_BYTES * l,
                    format!(
                        "layer {i} lane {l}: bytes {start}..{end} are not a word-aligned range \
                         between the header ({header} bytes) and the end ({bytes})"
                    ),
                ));
            }
        }
    }
    Ok(FlashImage {
        word_bits,
        bytes,
        layers: layers.into_iter().map(|(_, l)| l).collect(),
    })
}

impl FlashImage {
    /// The bytes of `lane`'s stream in `image` (`ceil(length_bits / 8)` of them).
    pub fn lane_bytes<'a>(&self, image: &'a [u8], lane: &FlashLane) -> &'a [u8] {
        let start = lane.offset as usize;
        &image[start..start + (lane.length_bits as usize).div_ceil(8)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{encode_lane, LaneStream, Strategy};

    const PARAMS: LayerParams = LayerParams {
        bits: 8,
        mode: Mode::Rice,
        eps: 0,
        frac_bits: 4,
        len_bits: 6,
        slope_bits: 0,
        shift: 0,
    };

    fn container(lanes: Vec<LaneStream>) -> Container {
        Container {
            word_bits: 32,
            layers: vec![crate::container::Layer {
                name: "w".into(),
                dims: vec![lanes.len(), 1],
                params: PARAMS,
                order: 0,
                max_error: 0,
                scales: vec![1.0; lanes.len()],
                lanes,
            }],
        }
    }

    #[test]
    fn rejects_images_beyond_16_mib_and_damaged_headers() {
        let six_mib = LaneStream {
            bytes: vec![0; 6 << 20],
            length_bits: 48 << 20,
            count: 1,
        };
        let big = container(vec![six_mib; 3]);
        assert!(matches!(
            build_flash_image(&big),
            Err(FlashImageError::TooLarge(n)) if n > FLASH_BYTES
        ));
        let values: Vec<i32> = (0..100).map(|i| i * 37 % 255 - 127).collect();
        let stream = encode_lane(&values, &PARAMS, Strategy::Greedy).unwrap();
        let image = build_flash_image(&container(vec![stream; 2])).unwrap();
        assert!(parse_flash_image(&image).is_ok());
        assert_eq!(
            parse_flash_image(&image[..10]),
            Err(FlashImageError::Truncated(10, 8))
        );
        let mut bad = image.clone();
        bad[0] = b'X';
        assert_eq!(parse_flash_image(&bad), Err(FlashImageError::BadMagic));
        let mut bad = image.clone();
        bad[HEADER_BYTES + LAYER_BYTES] = 2; // first lane offset inside the header
        assert!(matches!(
            parse_flash_image(&bad),
            Err(FlashImageError::BadField(at, _)) if at == HEADER_BYTES + LAYER_BYTES
        ));
        let mut bad = image.clone();
        bad[4] = 2;
        assert_eq!(parse_flash_image(&bad), Err(FlashImageError::BadVersion(2)));
        for (at, value) in [
            (HEADER_BYTES + 2, 3),
            (HEADER_BYTES + 3, 7),
            (HEADER_BYTES + 5, 13),
        ] {
            // bits 3, mode 7, len_bits 13: outside FORMAT.md's ranges.
            let mut bad = image.clone();
            bad[at] = value;
            assert!(
                matches!(parse_flash_image(&bad), Err(FlashImageError::BadField(..))),
                "byte {at} = {value}"
            );
        }
        let mut short = image.clone();
        short.truncate(image.len() - 4);
        assert!(matches!(
            parse_flash_image(&short),
            Err(FlashImageError::BadField(8, _))
        ));
    }
}
