//! The reference decoder of one lane stream (FORMAT.md section 4). Never panics.
//!
//! Fields are cut from one little-endian word load: a whole segment header from one load, a Rice
//! code from one load (the unary part is a count of trailing zeros), and each weight is written
//! straight into the output. Field-by-field reads remain only for the last bits of a stream,
//! where they name the field that is cut off.

#[cfg(test)]
mod reference;

use super::bits::BitReader;
use super::segment::{line, unzigzag};
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
    let mut r = open(params, bytes, length_bits)?;
    let mut out = Vec::with_capacity(capacity(params, length_bits, count));
    let mut segments = 0;
    while (out.len() as u64) < count {
        segments += 1;
        let head = header(&mut r, params, count - out.len() as u64)?;
        let base = out.len();
        out.resize(base + head.len, 0);
        let weights = &mut out[base..];
        match params.mode {
            Mode::Lines => {
                for (w, p) in weights
                    .iter_mut()
                    .zip(line(head.start, head.slope, params.frac_bits))
                {
                    *w = params.saturate(p) as i32;
                }
            }
            Mode::Rice => rice_weights(&mut r, params, &head, weights)?,
        }
    }
    finish(&r)?;
    Ok((out, segments))
}

/// Check the parameters and the declared length, and open a reader on the stream.
fn open<'a>(
    params: &LayerParams,
    bytes: &'a [u8],
    length_bits: u64,
) -> Result<BitReader<'a>, StreamError> {
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
    Ok(BitReader::new(bytes, length_bits))
}

/// Initial output capacity, bounded by the bits present: every weight costs at least one bit in
/// rice mode, and a lines segment of up to 2^LB weights costs at least B bits.
fn capacity(params: &LayerParams, length_bits: u64, count: u64) -> usize {
    let cap = count.min(length_bits.saturating_mul(params.max_len() as u64));
    cap.min(1 << 24) as usize
}

/// Reject bits after the last weight.
fn finish(r: &BitReader) -> Result<(), StreamError> {
    if r.remaining() > 0 {
        return Err(fail(
            StreamErrorKind::TrailingBits,
            r.pos(),
            format!("{} bits after the last weight", r.remaining()),
        ));
    }
    Ok(())
}

/// A segment header: length, line and (rice mode) Rice parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Header {
    len: usize,
    start: i64,
    slope: i64,
    rice_k: u32,
}

/// Read a segment header with `left` weights left in the lane; the whole header comes from one
/// word load unless the stream ends inside it.
#[inline]
fn header(r: &mut BitReader, params: &LayerParams, left: u64) -> Result<Header, StreamError> {
    if r.remaining() < params.header_bits() {
        return slow_header(r, params, left);
    }
    let (lb, b, mb) = (
        params.len_bits as u32,
        params.bits as u32,
        params.slope_bits as u32,
    );
    let at = r.pos();
    // At most 12 + 16 + 16 + 4 = 48 bits: within the 56 bits of one load.
    let w = r.peek();
    let len = bits(w, 0, lb) as usize + 1;
    check_len(at, len, left)?;
    let rice_k = if params.mode == Mode::Rice {
        let k = bits(w, lb + b + mb, K_BITS) as u32;
        check_rice_k(at + (lb + b + mb) as u64, k, params)?;
        k
    } else {
        0
    };
    r.skip(params.header_bits() as u32);
    Ok(Header {
        len,
        start: sign_extend(bits(w, lb, b), b),
        slope: sign_extend(bits(w, lb + b, mb), mb),
        rice_k,
    })
}

/// [`header`] field by field, naming the field that runs past the end of the stream.
fn slow_header(r: &mut BitReader, params: &LayerParams, left: u64) -> Result<Header, StreamError> {
    let at = r.pos();
    let len = field(r, params.len_bits as u32, "segment length")? as usize + 1;
    check_len(at, len, left)?;
    let start = sign_extend(
        field(r, params.bits as u32, "start value")?,
        params.bits as u32,
    );
    let slope = sign_extend(
        field(r, params.slope_bits as u32, "slope")?,
        params.slope_bits as u32,
    );
    let rice_k = if params.mode == Mode::Rice {
        let at_k = r.pos();
        let k = field(r, K_BITS, "rice parameter")? as u32;
        check_rice_k(at_k, k, params)?;
        k
    } else {
        0
    };
    Ok(Header {
        len,
        start,
        slope,
        rice_k,
    })
}

fn check_len(at: u64, len: usize, left: u64) -> Result<(), StreamError> {
    if len as u64 > left {
        return Err(fail(
            StreamErrorKind::SegmentOverrun,
            at,
            format!("segment of {len} weights with {left} left in the lane"),
        ));
    }
    Ok(())
}

fn check_rice_k(at: u64, k: u32, params: &LayerParams) -> Result<(), StreamError> {
    if k > params.bits as u32 {
        return Err(fail(
            StreamErrorKind::RiceParameter,
            at,
            format!("k = {k} exceeds B = {}", params.bits),
        ));
    }
    Ok(())
}

/// `n` bits of `w` from bit `from` (n < 64).
#[inline]
fn bits(w: u64, from: u32, n: u32) -> u64 {
    (w >> from) & ((1u64 << n) - 1)
}

/// The `n`-bit two's complement value `v` (n <= 63; 0 bits read as 0).
#[inline]
fn sign_extend(v: u64, n: u32) -> i64 {
    if n == 0 {
        return 0;
    }
    let shift = 64 - n;
    ((v << shift) as i64) >> shift
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

/// Decode the residuals of a rice segment and write its weights `sat(p + e * 2^r)`. Codes are
/// cut from a word of up to 56 stream bits, refilled by one load when it holds less than the
/// longest code.
#[inline]
fn rice_weights(
    r: &mut BitReader,
    params: &LayerParams,
    head: &Header,
    weights: &mut [i32],
) -> Result<(), StreamError> {
    let k = head.rice_k;
    let escape_bits = params.escape_bits();
    // The longest code (k <= B <= 16): Q_ESC + 1 + k <= 29 and Q_ESC + E <= 29 bits.
    let room = (Q_ESC + 1 + k).max(Q_ESC + escape_bits);
    let low_mask = (1u64 << k) - 1;
    let shift = params.shift;
    // `word` holds the next `avail` bits of the stream, all before its end.
    let (mut word, mut avail) = (0u64, 0u32);
    let predictions = line(head.start, head.slope, params.frac_bits);
    for (w, p) in weights.iter_mut().zip(predictions) {
        if avail < room {
            word = r.peek();
            avail = r.remaining().min(56) as u32;
        }
        let e = if avail >= room {
            let zeros = word.trailing_zeros();
            let (u, n) = if zeros < Q_ESC {
                (
                    ((zeros as u64) << k) | ((word >> (zeros + 1)) & low_mask),
                    zeros + 1 + k,
                )
            } else {
                let u = bits(word, Q_ESC, escape_bits);
                check_escape(r.pos(), u, k)?;
                (u, Q_ESC + escape_bits)
            };
            word >>= n;
            avail -= n;
            r.skip(n);
            unzigzag(u)
        } else {
            slow_residual(r, k, escape_bits)?
        };
        *w = params.saturate(p + (e << shift)) as i32;
    }
    Ok(())
}

fn check_escape(at: u64, u: u64, k: u32) -> Result<(), StreamError> {
    if u >> k < Q_ESC as u64 {
        return Err(fail(
            StreamErrorKind::EscapeOutOfRange,
            at,
            format!("escape codes {u}, which has a regular code with k = {k}"),
        ));
    }
    Ok(())
}

/// One Rice code a bit at a time, near the end of the stream, with the precise error of a
/// truncated code.
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
    check_escape(at, u, k)?;
    Ok(unzigzag(u))
}
