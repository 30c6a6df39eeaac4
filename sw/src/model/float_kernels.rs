//! The float reference's convolution laid out so the compiler vectorizes it: the input patches
//! gathered once per call, one row per kernel tap over all output positions, and every output
//! channel accumulated tap by tap over whole planes.
//!
//! Each output sums its products in the order of [`kernels::conv2d`] (input channel, kernel row,
//! kernel column), so the results are the same bit for bit: a tap in the padding adds `0 * w`, a
//! zero, which leaves the sum unchanged (a sum that starts at +0 never is -0). Weights that are
//! not finite (`0 * inf` is NaN) take the generic kernel.

use multiversion::multiversion;

use super::kernels::{self, ConvShape};

/// Convolution sums `[O, OH, OW]` without bias: `input` is `[C, H, W]`, `weight` is
/// `[O, C/groups, KH, KW]`.
pub fn conv2d(input: &[f32], weight: &[f32], sh: &ConvShape) -> Vec<f32> {
    if !weight.iter().all(|w| w.is_finite()) {
        return kernels::conv2d(input, weight, sh);
    }
    let [kh, kw] = sh.kernel;
    let ig = sh.in_c / sh.groups;
    let og = sh.out_c / sh.groups;
    let k = ig * kh * kw;
    let plane = sh.res.out_hw[0] * sh.res.out_hw[1];
    let mut out = vec![0f32; sh.out_c * plane];
    let mut taps = vec![0f32; k * plane];
    for g in 0..sh.groups {
        gather(input, g * ig, ig, sh, &mut taps);
        let range = g * og * k..(g + 1) * og * k;
        accumulate(
            &weight[range],
            &taps,
            k,
            &mut out[g * og * plane..(g + 1) * og * plane],
        );
    }
    out
}

/// For each row of `k` weights in `w`, its plane in `out` plus weight `j` times row `j` of
/// `taps`, for `j` from 0 to `k - 1` in order.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn accumulate(w: &[f32], taps: &[f32], k: usize, out: &mut [f32]) {
    let plane = taps.len() / k;
    for (wr, o) in w.chunks_exact(k).zip(out.chunks_exact_mut(plane)) {
        for (&wv, tap) in wr.iter().zip(taps.chunks_exact(plane)) {
            for (acc, &x) in o.iter_mut().zip(tap) {
                *acc += x * wv;
            }
        }
    }
}

/// Fill `taps` with one row per kernel tap of input channels `c0..c0 + n` (channel, kernel row,
/// kernel column), each the input value that tap reads at every output position, 0 in the
/// padding.
fn gather(input: &[f32], c0: usize, n: usize, sh: &ConvShape, taps: &mut [f32]) {
    let plane = sh.res.out_hw[0] * sh.res.out_hw[1];
    taps.fill(0.0);
    kernels::each_tap_read(c0, n, sh, |j, p, i| taps[j * plane + p] = input[i]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::graph::{AutoPad, Window};
    use proptest::prelude::*;

    proptest! {
        /// Any geometry, weights and inputs of mixed signs and magnitudes, zeros and negative
        /// zeros among them, and now and then an infinite weight: the same bits as the generic
        /// kernel.
        #[test]
        fn conv_equals_the_generic_kernel_bit_for_bit(
            (groups, ig, og) in (1usize..4, 1usize..4, 1usize..4),
            (h, w) in (1usize..9, 1usize..9),
            (kh, kw, s0, s1, d0, d1) in (1usize..4, 1usize..4, 1usize..3, 1usize..3, 1usize..3, 1usize..3),
            pads in [0usize..3, 0usize..3, 0usize..3, 0usize..3],
            infinite in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let win = Window {
                kernel: [kh, kw],
                stride: [s0, s1],
                dilation: [d0, d1],
                pads,
                auto_pad: AutoPad::NotSet,
                ceil_mode: false,
            };
            let Some(res) = win.resolve([h, w]) else { return Ok(()) };
            let (in_c, out_c) = (groups * ig, groups * og);
            let sh = ConvShape::new(in_c, out_c, groups, &win, res);
            let mut r = seed | 1;
            let mut next = || {
                r ^= r << 13;
                r ^= r >> 7;
                r ^= r << 17;
                match r % 8 {
                    0 => 0.0,
                    1 => -0.0,
                    _ => ((r >> 11) as f32 / (1u64 << 53) as f32 - 0.5) * 10f32.powi((r % 7) as i32 - 3),
                }
            };
            let x: Vec<f32> = (0..in_c * h * w).map(|_| next()).collect();
            let mut wt: Vec<f32> = (0..out_c * ig * kh * kw).map(|_| next()).collect();
            if infinite {
                wt[0] = f32::INFINITY;
            }
            let bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
            prop_assert_eq!(bits(conv2d(&x, &wt, &sh)), bits(kernels::conv2d(&x, &wt, &sh)));
        }
    }
}
