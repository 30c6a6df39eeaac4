//! The encoder's output bytes on the shipped models' real weights, pinned: a change of the planners
//! (speed work, refactoring) must not change a single bit. The expected CRCs were recorded from the
//! encoder as it stood before its speed rework; a deliberate change of the planners' choices
//! records them anew, and says so in its commit.

use std::path::Path;

use lc_sw::codec::{choose_params, encode_lane, LayerParams, Mode, Strategy};
use lc_sw::model::onnx::load_weights;

/// Per-channel max-abs rounding to 8 bits, kept here so that the pinned inputs do not move with
/// the project's quantizer.
fn quantize(data: &[f32], channels: usize) -> Vec<i32> {
    let per = data.len() / channels;
    data.chunks(per)
        .flat_map(|c| {
            let max = c.iter().fold(0f32, |m, v| m.max(v.abs()));
            let scale = if max > 0.0 { 127.0 / max } else { 0.0 };
            c.iter().map(move |v| (v * scale).round() as i32)
        })
        .collect()
}

fn layers(model: &str) -> Vec<Vec<i32>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models")
        .join(model);
    load_weights(&path)
        .expect("shipped model loads")
        .iter()
        .filter(|t| t.dims.len() > 1)
        .map(|t| quantize(&t.data, t.dims[0]))
        .collect()
}

/// A setting: the parameters are chosen per layer (`None`) or fixed, to reach the sloped paths.
struct Setting {
    name: &'static str,
    mode: Mode,
    eps: u16,
    fixed: Option<(u8, u8, u8)>,
    strategy: Strategy,
}

fn settings() -> Vec<Setting> {
    let mut out = Vec::new();
    for strategy in [Strategy::Greedy, Strategy::Optimal] {
        for (name, mode, eps, fixed) in [
            ("lines-0", Mode::Lines, 0, None),
            ("lines-8", Mode::Lines, 8, None),
            ("lines-3-sloped", Mode::Lines, 3, Some((4, 3, 6))),
            ("rice-0", Mode::Rice, 0, None),
            ("rice-1", Mode::Rice, 1, None),
            ("rice-4", Mode::Rice, 4, None),
            ("rice-8", Mode::Rice, 8, None),
            ("rice-2-sloped", Mode::Rice, 2, Some((4, 5, 4))),
        ] {
            out.push(Setting {
                name,
                mode,
                eps,
                fixed,
                strategy,
            });
        }
    }
    out
}

/// CRC-32 of every layer's parameters, stream length and bytes, and the total stream bits.
fn fingerprint(layers: &[Vec<i32>], s: &Setting) -> (u32, u64) {
    let mut crc = crc32fast::Hasher::new();
    let mut total = 0;
    for q in layers {
        let params = match s.fixed {
            None => choose_params(&[q], 8, s.mode, s.eps),
            Some((frac_bits, len_bits, slope_bits)) => LayerParams {
                bits: 8,
                mode: s.mode,
                eps: s.eps,
                frac_bits,
                len_bits,
                slope_bits,
                shift: match s.mode {
                    Mode::Lines => 0,
                    Mode::Rice => LayerParams::shift_for_eps(8, s.eps),
                },
            },
        };
        let stream = encode_lane(q, &params, s.strategy).expect("encodes");
        crc.update(
            &[
                params.frac_bits,
                params.len_bits,
                params.slope_bits,
                params.shift,
            ][..],
        );
        crc.update(&stream.length_bits.to_le_bytes());
        crc.update(&stream.bytes);
        total += stream.length_bits;
    }
    (crc.finalize(), total)
}

fn check(model: &str, expected: &[(&str, Strategy, u32, u64)]) {
    let layers = layers(model);
    let mut failures = Vec::new();
    for s in settings() {
        let got = fingerprint(&layers, &s);
        let want = expected
            .iter()
            .find(|e| e.0 == s.name && e.1 == s.strategy)
            .map(|e| (e.2, e.3));
        if want != Some(got) {
            failures.push(format!(
                "{model} {} {:?}: got crc {:#010x}, {} bits; expected {want:x?}",
                s.name, s.strategy, got.0, got.1
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn lenet5_streams_unchanged() {
    check(
        "lenet5.onnx",
        &[
            ("lines-0", Strategy::Greedy, 0xf9e108c4, 491_760),
            ("lines-8", Strategy::Greedy, 0x710e6689, 446_832),
            ("lines-3-sloped", Strategy::Greedy, 0xced4f9f2, 914_617),
            ("rice-0", Strategy::Greedy, 0x03c1adcb, 463_005),
            ("rice-1", Strategy::Greedy, 0x05a1eeec, 401_696),
            ("rice-4", Strategy::Greedy, 0x216f06d5, 279_467),
            ("rice-8", Strategy::Greedy, 0x863b84d2, 219_475),
            ("rice-2-sloped", Strategy::Greedy, 0xe03b1320, 371_327),
            ("lines-0", Strategy::Optimal, 0xf9e108c4, 491_760),
            ("lines-8", Strategy::Optimal, 0x710e6689, 446_832),
            ("lines-3-sloped", Strategy::Optimal, 0xced4f9f2, 914_617),
            ("rice-0", Strategy::Optimal, 0xadfce97c, 461_718),
            ("rice-1", Strategy::Optimal, 0xaa8d48dd, 400_314),
            ("rice-4", Strategy::Optimal, 0xd9c378af, 278_080),
            ("rice-8", Strategy::Optimal, 0x567b8792, 218_131),
            ("rice-2-sloped", Strategy::Optimal, 0xe600c4f1, 368_859),
        ],
    );
}

#[test]
fn vgg_small_streams_unchanged() {
    check(
        "vgg_small.onnx",
        &[
            ("lines-0", Strategy::Greedy, 0x559093db, 4_443_840),
            ("lines-8", Strategy::Greedy, 0xffef732f, 4_004_550),
            ("lines-3-sloped", Strategy::Greedy, 0x26bed644, 8_210_133),
            ("rice-0", Strategy::Greedy, 0x774f940d, 4_125_705),
            ("rice-1", Strategy::Greedy, 0xec74fefd, 3_570_944),
            ("rice-4", Strategy::Greedy, 0x6ed7dc60, 2_465_696),
            ("rice-8", Strategy::Greedy, 0xa05225f5, 1_925_342),
            ("rice-2-sloped", Strategy::Greedy, 0x0cdbccc4, 3_299_894),
            ("lines-0", Strategy::Optimal, 0x559093db, 4_443_840),
            ("lines-8", Strategy::Optimal, 0xffef732f, 4_004_550),
            ("lines-3-sloped", Strategy::Optimal, 0x26bed644, 8_210_133),
            ("rice-0", Strategy::Optimal, 0x719dcc63, 4_114_253),
            ("rice-1", Strategy::Optimal, 0xb3b0d4c4, 3_559_379),
            ("rice-4", Strategy::Optimal, 0x2d7342c7, 2_454_601),
            ("rice-8", Strategy::Optimal, 0x230874fc, 1_912_571),
            ("rice-2-sloped", Strategy::Optimal, 0x1cf5a77a, 3_277_110),
        ],
    );
}
