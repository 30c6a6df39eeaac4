//! The decoder read field by field, with the segment arithmetic of `reconstruct`: the plain
//! reading of FORMAT.md that the word-at-a-time decoder must match exactly, errors included.

use super::{finish, open, slow_header, slow_residual, StreamError};
use crate::codec::encode::{encode_lane, Strategy as Planner};
use crate::codec::segment::{reconstruct, Segment};
use lc_format::{LayerParams, Mode};
use proptest::prelude::*;

fn decode(
    params: &LayerParams,
    bytes: &[u8],
    length_bits: u64,
    count: u64,
) -> Result<(Vec<i32>, usize), StreamError> {
    let mut r = open(params, bytes, length_bits)?;
    let mut out = Vec::new();
    let mut segments = 0;
    while (out.len() as u64) < count {
        segments += 1;
        let head = slow_header(&mut r, params, count - out.len() as u64)?;
        let residuals = match params.mode {
            Mode::Lines => vec![],
            Mode::Rice => (0..head.len)
                .map(|_| slow_residual(&mut r, head.rice_k, params.escape_bits()))
                .collect::<Result<_, _>>()?,
        };
        let seg = Segment {
            len: head.len,
            start: head.start,
            slope: head.slope,
            rice_k: head.rice_k,
            residuals,
        };
        reconstruct(params, &seg, &mut out);
    }
    finish(&r)?;
    Ok((out, segments))
}

fn params() -> impl Strategy<Value = LayerParams> {
    (
        4u8..=16,
        any::<bool>(),
        0u16..=9,
        1u8..=10,
        0u8..=7,
        0u8..=8,
    )
        .prop_map(|(bits, rice, eps, frac_bits, len_bits, slope_bits)| {
            let mode = if rice { Mode::Rice } else { Mode::Lines };
            LayerParams {
                bits,
                mode,
                eps,
                frac_bits,
                len_bits,
                slope_bits,
                shift: match mode {
                    Mode::Lines => 0,
                    Mode::Rice => LayerParams::shift_for_eps(bits, eps),
                },
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Valid streams, then damaged ones (flipped bits, a shorter or longer declared length, a
    /// different weight count): the fast decoder returns exactly what the plain reading does.
    #[test]
    fn fast_decoder_matches_plain_reading(
        p in params(),
        raw in prop::collection::vec(any::<i32>(), 1..600),
        spread in 0u32..16,
        flips in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        cut in -40i64..8,
        extra in -2i64..3,
    ) {
        // Laplace-like values (narrow most of the time), so Rice codes of every length and
        // escapes all occur.
        let q: Vec<i32> = raw
            .iter()
            .map(|&v| (v >> (31 - spread.min(p.bits as u32 - 1))) as i64)
            .map(|v| p.saturate(v) as i32)
            .collect();
        let s = encode_lane(&q, &p, Planner::Greedy).unwrap();
        let got = super::decode_lane_segments(&p, &s.bytes, s.length_bits, s.count);
        prop_assert_eq!(&got, &decode(&p, &s.bytes, s.length_bits, s.count));
        let w = got.unwrap().0;
        prop_assert!(w.iter().zip(&q).all(|(a, b)| (a - b).abs() <= p.eps as i32));
        let mut bytes = s.bytes.clone();
        for at in &flips {
            let bit = at.index(bytes.len() * 8);
            bytes[bit / 8] ^= 1 << (bit % 8);
        }
        let len = (s.length_bits as i64 + cut).max(0) as u64;
        let count = (s.count as i64 + extra).max(0) as u64;
        prop_assert_eq!(
            super::decode_lane_segments(&p, &bytes, len, count),
            decode(&p, &bytes, len, count)
        );
    }
}
