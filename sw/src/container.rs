//! The `.lcw` container (FORMAT.md section 6): layer table, per-lane streams packed into memory
//! words, CRC-32; plus compression of a quantized layer into lanes.

use rayon::prelude::*;

use crate::codec::{
    choose_params_for, decode_lane, encode_lane, EncodeError, LaneStream, LayerParams, Mode,
    Strategy, StreamError,
};
use crate::quant::Quantized;
use lc_format::{Profile, ProfileError};

/// File magic.
pub const MAGIC: [u8; 4] = *b"LCW1";
/// Container version written and accepted.
pub const VERSION: u16 = 1;

/// A compressed layer: its shape, parameters, per-channel scales and lane streams.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Tensor name in the source model.
    pub name: String,
    /// Tensor shape, `dims[0]` = output channels.
    pub dims: Vec<usize>,
    /// Codec parameters of every lane.
    pub params: LayerParams,
    /// Weight order (0 = natural row-major).
    pub order: u8,
    /// Largest `|w - q|` the encoder measured (informative).
    pub max_error: u16,
    /// Per-channel dequantization scales.
    pub scales: Vec<f32>,
    /// One stream per lane.
    pub lanes: Vec<LaneStream>,
}

/// A whole container.
#[derive(Clone, Debug, PartialEq)]
pub struct Container {
    /// Memory word width the streams are packed for (32 or 64).
    pub word_bits: u8,
    /// Layers in model order.
    pub layers: Vec<Layer>,
}

/// Options for [`compress_layer`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompressOptions {
    /// The hardware the streams are for: parameters are chosen only within it.
    pub profile: Profile,
    /// Residual mode.
    pub mode: Mode,
    /// Error bound in LSB.
    pub eps: u16,
    /// Number of lanes (capped at the number of channels).
    pub lanes: usize,
    /// Segmentation strategy.
    pub strategy: Strategy,
}

/// What part of a container is wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContainerErrorKind {
    /// The file ends before a field.
    Truncated,
    /// Not a LineCompress container.
    BadMagic,
    /// Unsupported version.
    BadVersion,
    /// CRC mismatch.
    Checksum,
    /// A field out of range or inconsistent.
    BadField,
    /// A lane stream is malformed.
    Stream,
}

/// A rejected container, with the byte offset of the failure.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{kind:?} at byte {offset}: {detail}")]
pub struct ContainerError {
    /// The class of error.
    pub kind: ContainerErrorKind,
    /// Byte offset in the file.
    pub offset: u64,
    /// Human-readable detail.
    pub detail: String,
    /// The stream error, for [`ContainerErrorKind::Stream`].
    pub stream: Option<StreamError>,
}

/// Why a layer could not be compressed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompressError {
    /// The encoder rejected a lane.
    #[error("lane {lane}: {source}")]
    Encode {
        /// Lane index.
        lane: usize,
        /// Cause.
        source: EncodeError,
    },
    /// Lanes must be at least 1.
    #[error("lane count must be at least 1")]
    NoLanes,
    /// The hardware profile cannot decode what the layer needs.
    #[error(transparent)]
    Profile(#[from] ProfileError),
}

fn err(kind: ContainerErrorKind, offset: usize, detail: impl Into<String>) -> ContainerError {
    ContainerError {
        kind,
        offset: offset as u64,
        detail: detail.into(),
        stream: None,
    }
}

/// Split row-major values of `channels` channels into `lanes` lanes (channel `c` to lane `c mod N`).
pub fn split_lanes(values: &[i32], channels: usize, lanes: usize) -> Vec<Vec<i32>> {
    let per = values.len() / channels.max(1);
    let mut out = vec![Vec::with_capacity(values.len() / lanes + per); lanes];
    for (c, chunk) in values.chunks(per.max(1)).enumerate() {
        out[c % lanes].extend_from_slice(chunk);
    }
    out
}

/// Inverse of [`split_lanes`].
pub fn merge_lanes(lanes: &[Vec<i32>], channels: usize, channel_len: usize) -> Vec<i32> {
    let mut cursors = vec![0usize; lanes.len()];
    let mut out = Vec::with_capacity(channels * channel_len);
    for c in 0..channels {
        let l = c % lanes.len();
        out.extend_from_slice(&lanes[l][cursors[l]..cursors[l] + channel_len]);
        cursors[l] += channel_len;
    }
    out
}

/// Compress one quantized layer: choose parameters on its lanes, then encode every lane.
pub fn compress_layer(
    name: &str,
    q: &Quantized,
    opts: &CompressOptions,
) -> Result<Layer, CompressError> {
    if opts.lanes == 0 {
        return Err(CompressError::NoLanes);
    }
    let lanes = opts.lanes.min(q.channels());
    let split = split_lanes(&q.values, q.channels(), lanes);
    let views: Vec<&[i32]> = split.iter().map(|v| v.as_slice()).collect();
    let params = choose_params_for(&opts.profile, &views, q.bits, opts.mode, opts.eps)?;
    for lane in &split {
        opts.profile.check_lane_weights(lane.len() as u64)?;
    }
    let streams = split
        .par_iter()
        .enumerate()
        .map(|(lane, v)| {
            encode_lane(v, &params, opts.strategy)
                .map_err(|source| CompressError::Encode { lane, source })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut layer = Layer {
        name: name.to_string(),
        dims: q.dims.clone(),
        params,
        order: 0,
        max_error: 0,
        scales: q.scales.clone(),
        lanes: streams,
    };
    let decoded = layer.decode().map_err(|(lane, e)| CompressError::Encode {
        lane,
        source: EncodeError::BadParams(format!("own stream does not decode: {e}")),
    })?;
    let max = decoded
        .iter()
        .zip(&q.values)
        .map(|(&w, &v)| (w - v).unsigned_abs())
        .max();
    layer.max_error = max.unwrap_or(0).min(u16::MAX as u32) as u16;
    Ok(layer)
}

impl Layer {
    /// Number of weights.
    pub fn params_count(&self) -> usize {
        self.dims.iter().product()
    }

    /// Total stream bits over all lanes.
    pub fn total_bits(&self) -> u64 {
        self.lanes.iter().map(|l| l.length_bits).sum()
    }

    /// Decode every lane and merge them back into row-major order.
    pub fn decode(&self) -> Result<Vec<i32>, (usize, StreamError)> {
        let lanes = self
            .lanes
            .iter()
            .enumerate()
            .map(|(i, l)| {
                decode_lane(&self.params, &l.bytes, l.length_bits, l.count).map_err(|e| (i, e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let channels = self.dims[0];
        Ok(merge_lanes(
            &lanes,
            channels,
            self.params_count() / channels,
        ))
    }

    /// Weights per lane implied by the shape.
    fn lane_counts(&self) -> Vec<u64> {
        let channels = self.dims[0];
        let per = (self.params_count() / channels) as u64;
        let n = self.lanes.len();
        (0..n)
            .map(|l| ((channels - l).div_ceil(n)) as u64 * per)
            .collect()
    }
}

impl Container {
    fn word_bytes(&self) -> usize {
        self.word_bits as usize / 8
    }

    /// The data area as it sits in memory, and each lane's word offset (per layer, per lane).
    pub fn data_area(&self) -> (Vec<u8>, Vec<Vec<u32>>) {
        let wb = self.word_bytes();
        let mut data = Vec::new();
        let mut offsets = Vec::new();
        for layer in &self.layers {
            let mut lo = Vec::new();
            for lane in &layer.lanes {
                lo.push((data.len() / wb) as u32);
                data.extend_from_slice(&lane.bytes);
                data.resize(data.len().div_ceil(wb) * wb, 0);
            }
            offsets.push(lo);
        }
        (data, offsets)
    }

    /// Serialize (FORMAT.md section 6).
    pub fn to_bytes(&self) -> Vec<u8> {
        let (data, offsets) = self.data_area();
        let mut out = Vec::with_capacity(data.len() + 1024);
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(self.word_bits);
        out.push(0);
        out.extend_from_slice(&(self.layers.len() as u32).to_le_bytes());
        out.extend_from_slice(&((data.len() / self.word_bytes()) as u64).to_le_bytes());
        for (layer, offs) in self.layers.iter().zip(&offsets) {
            let name = layer.name.as_bytes();
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name);
            out.push(layer.dims.len() as u8);
            for &d in &layer.dims {
                out.extend_from_slice(&(d as u32).to_le_bytes());
            }
            let p = &layer.params;
            out.extend_from_slice(&[p.bits, p.mode.code()]);
            out.extend_from_slice(&p.eps.to_le_bytes());
            out.extend_from_slice(&layer.max_error.to_le_bytes());
            out.extend_from_slice(&[p.frac_bits, p.len_bits, p.slope_bits, p.shift, layer.order]);
            out.extend_from_slice(&(layer.lanes.len() as u16).to_le_bytes());
            for s in &layer.scales {
                out.extend_from_slice(&s.to_le_bytes());
            }
            for (lane, &off) in layer.lanes.iter().zip(offs) {
                out.extend_from_slice(&off.to_le_bytes());
                out.extend_from_slice(&lane.length_bits.to_le_bytes());
                out.extend_from_slice(&lane.count.to_le_bytes());
            }
        }
        out.extend_from_slice(&data);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Parse and validate a container, decoding no streams (see [`Container::decode`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Container, ContainerError> {
        use ContainerErrorKind::*;
        if bytes.len() < 4 || bytes[..4] != MAGIC {
            let kind = if bytes.len() < 4 && MAGIC.starts_with(bytes) {
                Truncated
            } else {
                BadMagic
            };
            return Err(err(
                kind,
                0,
                "not a LineCompress container (magic \"LCW1\")",
            ));
        }
        if bytes.len() < 24 {
            return Err(err(
                Truncated,
                bytes.len(),
                format!("{} bytes is shorter than any container", bytes.len()),
            ));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != VERSION {
            return Err(err(
                BadVersion,
                4,
                format!("version {version}, expected {VERSION}"),
            ));
        }
        let body = &bytes[..bytes.len() - 4];
        let stored = u32::from_le_bytes(bytes[bytes.len() - 4..].try_into().expect("4 bytes"));
        if crc32fast::hash(body) != stored {
            return Err(err(
                Checksum,
                bytes.len() - 4,
                "CRC-32 mismatch: the file is corrupt",
            ));
        }
        let mut r = Reader {
            bytes: body,
            pos: 6,
        };
        let word_bits = r.u8()?;
        if word_bits != 32 && word_bits != 64 {
            return Err(err(
                BadField,
                6,
                format!("word_bits = {word_bits}, expected 32 or 64"),
            ));
        }
        r.u8()?;
        let layer_count = r.u32()? as usize;
        let data_words = r.u64()?;
        let mut layers = Vec::new();
        let mut lane_offsets = Vec::new();
        for _ in 0..layer_count {
            let (layer, offs) = r.layer()?;
            layers.push(layer);
            lane_offsets.push(offs);
        }
        let data_start = r.pos;
        let word_bytes = word_bits as u64 / 8;
        if (body.len() - data_start) as u64 != data_words.saturating_mul(word_bytes) {
            return Err(err(
                BadField,
                12,
                format!(
                    "data_words = {data_words} does not match the {} data bytes",
                    body.len() - data_start
                ),
            ));
        }
        let data = &body[data_start..];
        for (layer, offs) in layers.iter_mut().zip(lane_offsets) {
            for (lane, (off, at)) in layer.lanes.iter_mut().zip(offs) {
                let start = off as u64 * word_bytes;
                let len = lane.length_bits.div_ceil(8);
                if start + len > data.len() as u64 {
                    return Err(err(
                        BadField,
                        at,
                        format!("lane of layer '{}' lies outside the data area", layer.name),
                    ));
                }
                lane.bytes = data[start as usize..(start + len) as usize].to_vec();
            }
        }
        Ok(Container { word_bits, layers })
    }

    /// Bytes before the data area: fixed header plus layer table.
    fn table_len(&self) -> usize {
        20 + self
            .layers
            .iter()
            .map(|l| {
                2 + l.name.len()
                    + 1
                    + 4 * l.dims.len()
                    + 12
                    + 2
                    + 4 * l.scales.len()
                    + 20 * l.lanes.len()
            })
            .sum::<usize>()
    }

    /// Decode every layer to row-major integer weights; a stream error carries the byte offset
    /// of the offending field in the serialized file.
    pub fn decode(&self) -> Result<Vec<Vec<i32>>, ContainerError> {
        let (_, offsets) = self.data_area();
        let data_start = self.table_len() as u64;
        self.layers
            .iter()
            .zip(&offsets)
            .map(|(layer, offs)| {
                layer.decode().map_err(|(lane, e)| ContainerError {
                    kind: ContainerErrorKind::Stream,
                    offset: data_start + offs[lane] as u64 * self.word_bytes() as u64 + e.bit / 8,
                    detail: format!("layer '{}' lane {lane}: {e}", layer.name),
                    stream: Some(e),
                })
            })
            .collect()
    }
}

/// Bounds-checked little-endian reader over the container header.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ContainerError> {
        if self.bytes.len() - self.pos < n {
            return Err(err(
                ContainerErrorKind::Truncated,
                self.pos,
                format!("{n} more bytes expected"),
            ));
        }
        self.pos += n;
        Ok(&self.bytes[self.pos - n..self.pos])
    }
    fn u8(&mut self) -> Result<u8, ContainerError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, ContainerError> {
        Ok(u16::from_le_bytes(
            self.take(2)?.try_into().expect("2 bytes"),
        ))
    }
    fn u32(&mut self) -> Result<u32, ContainerError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }
    fn u64(&mut self) -> Result<u64, ContainerError> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    fn bad(&self, at: usize, detail: String) -> ContainerError {
        err(ContainerErrorKind::BadField, at, detail)
    }

    /// One layer record; returns the layer (lane bytes still empty) and each lane's word offset
    /// with the byte position of that field.
    fn layer(&mut self) -> Result<(Layer, Vec<(u32, usize)>), ContainerError> {
        let at = self.pos;
        let name_len = self.u16()? as usize;
        let name = String::from_utf8(self.take(name_len)?.to_vec())
            .map_err(|_| self.bad(at, "layer name is not UTF-8".into()))?;
        let at = self.pos;
        let rank = self.u8()? as usize;
        if !(1..=8).contains(&rank) {
            return Err(self.bad(at, format!("layer '{name}': rank {rank} outside 1..=8")));
        }
        let dims = (0..rank)
            .map(|_| self.u32().map(|d| d as usize))
            .collect::<Result<Vec<_>, _>>()?;
        let count = dims
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d))
            .filter(|&c| c > 0 && c < 1 << 40);
        let Some(count) = count else {
            return Err(self.bad(
                at,
                format!("layer '{name}': shape {dims:?} is empty or too large"),
            ));
        };
        let at = self.pos;
        let bits = self.u8()?;
        let mode_code = self.u8()?;
        let mode = Mode::from_code(mode_code)
            .ok_or_else(|| self.bad(at + 1, format!("layer '{name}': mode {mode_code}")))?;
        let eps = self.u16()?;
        let max_error = self.u16()?;
        let f = self.take(5)?;
        let params = LayerParams {
            bits,
            mode,
            eps,
            frac_bits: f[0],
            len_bits: f[1],
            slope_bits: f[2],
            shift: f[3],
        };
        let order = f[4];
        params
            .validate()
            .map_err(|e| self.bad(at, format!("layer '{name}': {e}")))?;
        if order != 0 {
            return Err(self.bad(at + 10, format!("layer '{name}': unknown order {order}")));
        }
        let at = self.pos;
        let n = self.u16()? as usize;
        if n == 0 || n > dims[0] {
            return Err(self.bad(
                at,
                format!("layer '{name}': {n} lanes for {} channels", dims[0]),
            ));
        }
        if self.bytes.len() - self.pos < dims[0] * 4 {
            return Err(err(
                ContainerErrorKind::Truncated,
                self.pos,
                "scales past the end",
            ));
        }
        let scales = (0..dims[0])
            .map(|_| self.u32().map(f32::from_bits))
            .collect::<Result<Vec<_>, _>>()?;
        let mut layer = Layer {
            name,
            dims,
            params,
            order,
            max_error,
            scales,
            lanes: Vec::new(),
        };
        let mut offs = Vec::new();
        for _ in 0..n {
            let at = self.pos;
            let off = self.u32()?;
            let length_bits = self.u64()?;
            let count = self.u64()?;
            offs.push((off, at));
            layer.lanes.push(LaneStream {
                bytes: Vec::new(),
                length_bits,
                count,
            });
        }
        for (l, expected) in layer.lane_counts().into_iter().enumerate() {
            if layer.lanes[l].count != expected {
                return Err(self.bad(
                    offs[l].1 + 12,
                    format!(
                        "layer '{}' lane {l}: count {} but the shape gives {expected}",
                        layer.name, layer.lanes[l].count
                    ),
                ));
            }
        }
        debug_assert_eq!(
            layer.lanes.iter().map(|l| l.count).sum::<u64>(),
            count as u64
        );
        Ok((layer, offs))
    }
}
