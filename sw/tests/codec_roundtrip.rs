//! Property tests of the codec: decode(encode(q)) stays within eps of q, equals q at eps = 0,
//! and the optimal planner never uses more bits than the greedy one.

use lc_sw::codec::{
    choose_params, decode_lane, encode_lane, LayerParams, Mode, Strategy as Planner,
};
use proptest::prelude::*;

/// Pieces that a weight stream is built from: the shapes that stress a segmenter.
#[derive(Clone, Debug)]
enum Piece {
    Random(Vec<i64>),
    Constant(i64, usize),
    Ramp(i64, i64, usize),
    Alternating(usize),
    Extreme(bool, usize),
}

fn piece(max_len: usize) -> impl Strategy<Value = Piece> {
    prop_oneof![
        prop::collection::vec(any::<i64>(), 1..max_len).prop_map(Piece::Random),
        (any::<i64>(), 1..max_len).prop_map(|(v, n)| Piece::Constant(v, n)),
        (any::<i64>(), -40i64..40, 1..max_len).prop_map(|(v, d, n)| Piece::Ramp(v, d, n)),
        (1..max_len).prop_map(Piece::Alternating),
        (any::<bool>(), 1..max_len).prop_map(|(hi, n)| Piece::Extreme(hi, n)),
    ]
}

/// Render pieces as B-bit values (`Random` is centred and narrowed like real weights).
fn render(pieces: &[Piece], bits: u8) -> Vec<i32> {
    let lo = -(1i64 << (bits - 1));
    let hi = (1i64 << (bits - 1)) - 1;
    let wrap = |v: i64| lo + v.rem_euclid(hi - lo + 1);
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Random(v) => out.extend(v.iter().map(|&x| wrap(x >> (x & 3)))),
            Piece::Constant(v, n) => out.extend(std::iter::repeat_n(wrap(*v), *n)),
            Piece::Ramp(v, d, n) => {
                out.extend((0..*n as i64).map(|i| (wrap(*v) + i * d).clamp(lo, hi)))
            }
            Piece::Alternating(n) => out.extend((0..*n).map(|i| if i % 2 == 0 { lo } else { hi })),
            Piece::Extreme(up, n) => out.extend(std::iter::repeat_n(if *up { hi } else { lo }, *n)),
        }
    }
    out.into_iter().map(|v| v as i32).collect()
}

fn mode() -> impl Strategy<Value = Mode> {
    prop_oneof![Just(Mode::Lines), Just(Mode::Rice)]
}

fn strategy() -> impl Strategy<Value = Planner> {
    prop_oneof![Just(Planner::Greedy), Just(Planner::Optimal)]
}

/// Encode with the parameters the encoder would choose, decode, and check the bound.
fn check_roundtrip(
    q: &[i32],
    bits: u8,
    mode: Mode,
    eps: u16,
    strategy: Planner,
) -> Result<(), TestCaseError> {
    let params = choose_params(&[q], bits, mode, eps);
    let stream =
        encode_lane(q, &params, strategy).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let w = decode_lane(&params, &stream.bytes, stream.length_bits, stream.count)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(w.len(), q.len());
    for (i, (&a, &b)) in w.iter().zip(q).enumerate() {
        prop_assert!(
            (a - b).abs() <= eps as i32,
            "weight {} decoded {} for {} (eps {}, {:?})",
            i,
            a,
            b,
            eps,
            params
        );
    }
    if eps == 0 {
        prop_assert_eq!(&w[..], q);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn roundtrip_within_eps(
        pieces in prop::collection::vec(piece(400), 1..8),
        bits in 4u8..=16,
        eps in prop_oneof![Just(0u16), 0u16..=12],
        mode in mode(),
        strategy in strategy(),
    ) {
        check_roundtrip(&render(&pieces, bits), bits, mode, eps, strategy)?;
    }

    #[test]
    fn optimal_never_larger_than_greedy(
        pieces in prop::collection::vec(piece(300), 1..6),
        bits in 4u8..=16,
        // eps of nearest rounding: the planners size segments with the nearest residuals, and a
        // dead zone (eps 3, 5..7) then shortens the two plans' codes by different amounts.
        eps in prop::sample::select(vec![0u16, 1, 2, 4, 8]),
        mode in mode(),
        frac_bits in 1u8..=10,
        len_bits in 0u8..=8,
        slope_bits in 0u8..=10,
    ) {
        let q = render(&pieces, bits);
        let shift = if mode == Mode::Rice { LayerParams::shift_for_eps(bits, eps) } else { 0 };
        let params = LayerParams { bits, mode, eps, frac_bits, len_bits, slope_bits, shift };
        let greedy = encode_lane(&q, &params, Planner::Greedy).unwrap();
        let optimal = encode_lane(&q, &params, Planner::Optimal).unwrap();
        prop_assert!(optimal.length_bits <= greedy.length_bits,
            "optimal {} > greedy {} bits", optimal.length_bits, greedy.length_bits);
    }
}

proptest! {
    // Long streams (up to 100k values) are few: each case encodes a whole layer's worth.
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn long_streams_roundtrip(
        pieces in prop::collection::vec(piece(25_000), 1..8),
        bits in 4u8..=16,
        eps in 0u16..=8,
        mode in mode(),
        strategy in strategy(),
    ) {
        let mut q = render(&pieces, bits);
        q.truncate(100_000);
        check_roundtrip(&q, bits, mode, eps, strategy)?;
    }
}

/// On a stream where the greedy choice is provably suboptimal, the optimal planner is strictly
/// smaller (the test fails if the two planners were the same).
#[test]
fn optimal_beats_greedy_somewhere() {
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut better = 0;
    for _ in 0..200 {
        let q: Vec<i32> = (0..64)
            .map(|_| {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                (rng % 9) as i32 - 4
            })
            .collect();
        let params = LayerParams {
            bits: 8,
            mode: Mode::Lines,
            eps: 1,
            frac_bits: 4,
            len_bits: 3,
            slope_bits: 6,
            shift: 0,
        };
        let g = encode_lane(&q, &params, Planner::Greedy).unwrap();
        let o = encode_lane(&q, &params, Planner::Optimal).unwrap();
        assert!(o.length_bits <= g.length_bits);
        better += (o.length_bits < g.length_bits) as usize;
    }
    assert!(better > 0, "the optimal planner never improved on greedy");
}

/// Rice-mode residuals are unbiased: over weights spread evenly across the residual step, the
/// mean reconstruction error is zero (rounding every tie up would make it +1/2 LSB).
#[test]
fn rice_reconstruction_is_unbiased() {
    for eps in [1u16, 2, 4, 8] {
        let q: Vec<i32> = (0..4096).map(|i| ((i * 37) % 201) - 100).collect();
        let params = choose_params(&[&q], 8, Mode::Rice, eps);
        let s = encode_lane(&q, &params, Planner::Optimal).unwrap();
        let w = decode_lane(&params, &s.bytes, s.length_bits, s.count).unwrap();
        let bias = w.iter().zip(&q).map(|(&a, &b)| (a - b) as f64).sum::<f64>() / q.len() as f64;
        assert!(bias.abs() < 0.1, "eps {eps}: mean error {bias:+.3} LSB");
    }
}

/// Encode `q` under `params` and decode it.
fn roundtrip(q: &[i32], params: &LayerParams, strategy: Planner) -> (u64, Vec<i32>) {
    let s = encode_lane(q, params, strategy).unwrap();
    let w = decode_lane(params, &s.bytes, s.length_bits, s.count).unwrap();
    (s.length_bits, w)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// An eps strictly between half the residual step and the step (a dead zone) keeps every
    /// weight within it and never lengthens the stream of the same parameters at eps = half
    /// the step: the segments are the same and each residual code only shortens.
    #[test]
    fn dead_zone_stays_within_eps_and_never_grows(
        pieces in prop::collection::vec(piece(400), 1..6),
        bits in 6u8..=16,
        shift in 2u8..=5,
        dead in 1u16..1000,
        strategy in strategy(),
    ) {
        let q = render(&pieces, bits);
        let half = 1u16 << (shift - 1);
        let nearest = choose_params(&[&q], bits, Mode::Rice, half);
        let eps = half + 1 + dead % (half - 1);
        prop_assert_eq!(LayerParams::shift_for_eps(bits, eps), nearest.shift);
        let dead_zone = LayerParams { eps, ..nearest };
        let (near_bits, _) = roundtrip(&q, &nearest, strategy);
        let (bits_dz, w) = roundtrip(&q, &dead_zone, strategy);
        prop_assert!(bits_dz <= near_bits, "{} bits with eps {}, {} with eps {}", bits_dz, eps, near_bits, half);
        for (i, (&a, &b)) in w.iter().zip(&q).enumerate() {
            prop_assert!((a - b).abs() <= eps as i32, "weight {}: {} for {} (eps {})", i, a, b, eps);
        }
    }
}

/// On weight-like values (a bell-shaped spread), the dead zone of eps 6 (step 8) is used and
/// pays: some weights end farther than the 4 LSB of nearest rounding, none farther than 6, and
/// the stream is shorter than at eps 4.
#[test]
fn dead_zone_shortens_weight_like_streams() {
    let mut rng = 0x9E3779B97F4A7C15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % 41) as i32 - 20
    };
    let q: Vec<i32> = (0..4096).map(|_| next() + next() + next()).collect();
    let nearest = choose_params(&[&q], 8, Mode::Rice, 4);
    let dead_zone = LayerParams { eps: 6, ..nearest };
    let (near_bits, near) = roundtrip(&q, &nearest, Planner::Optimal);
    let (dz_bits, w) = roundtrip(&q, &dead_zone, Planner::Optimal);
    let max_err = |w: &[i32]| w.iter().zip(&q).map(|(a, b)| (a - b).abs()).max().unwrap();
    assert_eq!(max_err(&near), 4);
    assert!(
        max_err(&w) > 4 && max_err(&w) <= 6,
        "max error {}",
        max_err(&w)
    );
    assert!(
        dz_bits < near_bits,
        "{dz_bits} bits with the dead zone, {near_bits} without"
    );
}
