//! The reference decoder of one lane stream (FORMAT.md section 4). Never panics.

use super::bits::BitReader;
use super::segment::{reconstruct, unzigzag, Segment};
use lc_format::{LayerParams, Mode, K_BITS, Q_ESC};

/// Why a lane stream was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamErrorKind {
    /// The layer parameters are outside the ranges of the format.
    BadParams,
    /// A field extends past the end of the stream.
    Truncated,
    /// A segment is longer than the weights left in the lane.
    SegmentOverrun,
    /// A Rice parameter larger than B.
    RiceParameter,
    /// An escape that codes a value which has a regular code.
    EscapeOutOfRange,
    /// Bits left over after the last weight.
    TrailingBits,
}

/// A rejected lane stream: what went wrong and at which bit of the stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?} at bit {bit}: {detail}")]
pub struct StreamError {
    /// The class of error.
    pub kind: StreamErrorKind,
    /// Bit offset (from the start of the lane stream) of the offending field.
    pub bit: u64,
    /// Human-readable detail.
    pub detail: String,
}

fn fail(kind: StreamErrorKind, bit: u64, detail: impl Into<String>) -> StreamError {
    StreamError {
        kind,
        bit,
        detail: detail.into(),
    }
}

/// Decode `count` weights from a lane stream of `length_bits` bits.
pub fn decode_lane(
    params: &LayerParams,
    bytes: &[u8],
    length_bits: u64,
    count: u64,
) -> Result<Vec<i32>, StreamError> {
    decode_lane_segments(params, bytes, length_bits, count).map(|(w, _)| w)
}

/// [`decode_lane`], also returning the number of segments.
pub fn decode_lane_segments(
    params: &LayerParams,
    bytes: &[u8],
    length_bits: u64,
    count: u64,
) -> Result<(Vec<i32>, usize), StreamError> {
    params
        .validate()
        .map_err(|e| fail(StreamErrorKind::BadParams, 0, e))?;
    if length_bits > bytes.len() as u64 * 8 {
        return Err(fail(
            StreamErrorKind::Truncated,
            bytes.len() as u64 * 8,
            format!(
                "stream declares {length_bits} bits but holds {}",
                bytes.len() * 8
            ),
        ));
    }
    let mut r = BitReader::new(bytes, length_bits);
    // Capacity is bounded by the bits present: every weight costs at least one bit in rice mode,
    // and a lines segment of up to 2^LB weights costs at least B bits.
    let cap = count.min(length_bits.saturating_mul(params.max_len() as u64));
    let mut out = Vec::with_capacity(cap.min(1 << 24) as usize);
    let mut seg = Segment {
        len: 0,
        start: 0,
        slope: 0,
        rice_k: 0,
        residuals: Vec::new(),
    };
    let mut segments = 0;
    while (out.len() as u64) < count {
        segments += 1;
        let at = r.pos();
        seg.len = field(&mut r, params.len_bits as u32, "segment length")? as usize + 1;
        let left = count - out.len() as u64;
        if seg.len as u64 > left {
            return Err(fail(
                StreamErrorKind::SegmentOverrun,
                at,
                format!(
                    "segment of {} weights with {left} left in the lane",
                    seg.len
                ),
            ));
        }
        seg.start = signed(&mut r, params.bits as u32, "start value")?;
        seg.slope = signed(&mut r, params.slope_bits as u32, "slope")?;
        seg.residuals.clear();
        if params.mode == Mode::Rice {
            let at_k = r.pos();
            seg.rice_k = field(&mut r, K_BITS, "rice parameter")? as u32;
            if seg.rice_k > params.bits as u32 {
                return Err(fail(
                    StreamErrorKind::RiceParameter,
                    at_k,
                    format!("k = {} exceeds B = {}", seg.rice_k, params.bits),
                ));
            }
            for _ in 0..seg.len {
                seg.residuals
                    .push(residual(&mut r, seg.rice_k, params.escape_bits())?);
            }
        }
        reconstruct(params, &seg, &mut out);
    }
    if r.remaining() > 0 {
        return Err(fail(
            StreamErrorKind::TrailingBits,
            r.pos(),
            format!("{} bits after the last weight", r.remaining()),
        ));
    }
    Ok((out, segments))
}

fn field(r: &mut BitReader, n: u32, what: &str) -> Result<u64, StreamError> {
    let at = r.pos();
    r.get(n).ok_or_else(|| {
        fail(
            StreamErrorKind::Truncated,
            at,
            format!("{what} ({n} bits) past the end"),
        )
    })
}

fn signed(r: &mut BitReader, n: u32, what: &str) -> Result<i64, StreamError> {
    let at = r.pos();
    r.get_signed(n).ok_or_else(|| {
        fail(
            StreamErrorKind::Truncated,
            at,
            format!("{what} ({n} bits) past the end"),
        )
    })
}

/// Decode one Rice-coded residual (FORMAT.md section 4.2).
#[inline]
fn residual(r: &mut BitReader, k: u32, escape_bits: u32) -> Result<i64, StreamError> {
    // Fast path: the whole code lies in one word load (k <= 16, so a regular code takes at most
    // 29 bits and an escape 12 + 17): the unary part is the count of trailing zeros.
    let room = (Q_ESC + 1 + k).max(Q_ESC + escape_bits) as u64;
    if r.remaining() >= room {
        let w = r.peek();
        let zeros = w.trailing_zeros();
        if zeros < Q_ESC {
            let low = (w >> (zeros + 1)) & ((1u64 << k) - 1);
            r.skip(zeros + 1 + k);
            return Ok(unzigzag(((zeros as u64) << k) | low));
        }
    }
    slow_residual(r, k, escape_bits)
}

/// [`residual`] one bit at a time: escapes, and codes near the end of the stream, with the
/// precise error of a truncated or malformed code.
fn slow_residual(r: &mut BitReader, k: u32, escape_bits: u32) -> Result<i64, StreamError> {
    let at = r.pos();
    let mut zeros = 0;
    while zeros < Q_ESC {
        if field(r, 1, "residual unary part")? == 1 {
            let low = field(r, k, "residual remainder")?;
            return Ok(unzigzag(((zeros as u64) << k) | low));
        }
        zeros += 1;
    }
    let u = field(r, escape_bits, "escaped residual")?;
    if u >> k < Q_ESC as u64 {
        return Err(fail(
            StreamErrorKind::EscapeOutOfRange,
            at,
            format!("escape codes {u}, which has a regular code with k = {k}"),
        ));
    }
    Ok(unzigzag(u))
}
