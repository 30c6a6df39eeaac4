//! The golden model's convolution and dense accumulators for int8 activations, laid out so the
//! compiler vectorizes them: the input patches of a convolution gathered once per call
//! (im2col) and every convolution accumulator an i16 x i16 -> i32 dot product of contiguous
//! rows.
//!
//! Accumulation wraps modulo 2^32 and a wrapping sum does not depend on its order, so the
//! results equal [`kernels::conv2d`] and [`kernels::dense`] on the same values exactly.
//! Convolution weights wider than 16 bits take the generic kernel. The dot products are
//! compiled for AVX2 and SSE4.1 too, and the widest the processor has runs.

use multiversion::multiversion;

use super::kernels::{self, ConvShape};

/// Convolution accumulators `[O, OH, OW]` without bias of the int8 `input` `[C, H, W]` and the
/// integer `weight` `[O, C/groups, KH, KW]`.
pub fn conv2d(input: &[i8], weight: &[i32], sh: &ConvShape) -> Vec<i32> {
    let Some(w16) = narrow(weight) else {
        let x: Vec<i32> = input.iter().map(|&v| v as i32).collect();
        return kernels::conv2d(&x, weight, sh);
    };
    let [kh, kw] = sh.kernel;
    let ig = sh.in_c / sh.groups;
    let og = sh.out_c / sh.groups;
    let k = ig * kh * kw;
    let plane = sh.res.out_hw[0] * sh.res.out_hw[1];
    let mut out = vec![0i32; sh.out_c * plane];
    let mut cols = vec![0i16; plane * k];
    for g in 0..sh.groups {
        patches(input, g * ig, ig, sh, &mut cols);
        let range = g * og * k..(g + 1) * og * k;
        products(
            &w16[range],
            &cols,
            k,
            &mut out[g * og * plane..(g + 1) * og * plane],
        );
    }
    out
}

/// Dense accumulators `W x` without bias of the int8 `input` and the integer `weight` `[O, I]`.
pub fn dense(input: &[i8], weight: &[i32], out_n: usize) -> Vec<i32> {
    let x: Vec<i32> = input.iter().map(|&v| v as i32).collect();
    let mut out = vec![0i32; out_n];
    if !x.is_empty() {
        rows_times(weight, &x, &mut out);
    }
    out
}

/// `out[o * P + p]` = the dot product of row `o` of `w` and row `p` of `cols` (rows of `k`).
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn products(w: &[i16], cols: &[i16], k: usize, out: &mut [i32]) {
    let plane = cols.len() / k;
    for (wr, o) in w.chunks_exact(k).zip(out.chunks_exact_mut(plane)) {
        for (acc, col) in o.iter_mut().zip(cols.chunks_exact(k)) {
            *acc = dot(wr, col);
        }
    }
}

/// `out[o]` = the dot product of row `o` of `w` (rows as long as `x`) and `x`, wrapping.
#[multiversion(targets("x86_64+avx2", "x86_64+sse4.1"))]
fn rows_times(w: &[i32], x: &[i32], out: &mut [i32]) {
    for (acc, row) in out.iter_mut().zip(w.chunks_exact(x.len())) {
        *acc = row
            .iter()
            .zip(x)
            .map(|(&a, &b)| a.wrapping_mul(b))
            .fold(0, i32::wrapping_add);
    }
}

/// Sum of the products, wrapping.
#[inline(always)]
fn dot(a: &[i16], b: &[i16]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| x as i32 * y as i32)
        .fold(0, i32::wrapping_add)
}

/// The weights as i16, `None` when one does not fit.
fn narrow(w: &[i32]) -> Option<Vec<i16>> {
    w.iter().map(|&v| i16::try_from(v).ok()).collect()
}

/// Gather the patches of input channels `c0..c0 + n` into `cols`, one row of
/// `n * KH * KW` values (channel, kernel row, kernel column) per output position; positions in
/// the padding read 0.
fn patches(input: &[i8], c0: usize, n: usize, sh: &ConvShape, cols: &mut [i16]) {
    let k = n * sh.kernel[0] * sh.kernel[1];
    cols.fill(0);
    kernels::each_tap_read(c0, n, sh, |j, p, i| cols[p * k + j] = input[i] as i16);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::graph::{AutoPad, Window};
    use proptest::prelude::*;

    fn window(k: [usize; 2], s: [usize; 2], d: [usize; 2], p: [usize; 4]) -> Window {
        Window {
            kernel: k,
            stride: s,
            dilation: d,
            pads: p,
            auto_pad: AutoPad::NotSet,
            ceil_mode: false,
        }
    }

    proptest! {
        /// Any geometry (groups, strides, dilations, padding) and weights up to 16 bits, or
        /// wider (the generic path): the same accumulators as the generic kernel.
        #[test]
        fn conv_equals_the_generic_kernel(
            (groups, ig, og) in (1usize..4, 1usize..4, 1usize..4),
            (h, w) in (1usize..9, 1usize..9),
            (kh, kw, s0, s1, d0, d1) in (1usize..4, 1usize..4, 1usize..3, 1usize..3, 1usize..3, 1usize..3),
            pads in [0usize..3, 0usize..3, 0usize..3, 0usize..3],
            wide in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let win = window([kh, kw], [s0, s1], [d0, d1], pads);
            let Some(res) = win.resolve([h, w]) else { return Ok(()) };
            let (in_c, out_c) = (groups * ig, groups * og);
            let sh = ConvShape::new(in_c, out_c, groups, &win, res);
            let mut r = seed | 1;
            let mut next = || { r ^= r << 13; r ^= r >> 7; r ^= r << 17; r };
            let x: Vec<i8> = (0..in_c * h * w).map(|_| next() as i8).collect();
            let limit: i64 = if wide { 1 << 20 } else { 1 << 15 };
            let wt: Vec<i32> = (0..out_c * ig * kh * kw)
                .map(|_| (next() as i64 % limit) as i32)
                .collect();
            let xi: Vec<i32> = x.iter().map(|&v| v as i32).collect();
            prop_assert_eq!(conv2d(&x, &wt, &sh), kernels::conv2d(&xi, &wt, &sh));
        }

        #[test]
        fn dense_equals_the_generic_kernel(
            (o, i) in (1usize..20, 1usize..70),
            wide in any::<bool>(),
            seed in any::<u64>(),
        ) {
            let mut r = seed | 1;
            let mut next = || { r ^= r << 13; r ^= r >> 7; r ^= r << 17; r };
            let x: Vec<i8> = (0..i).map(|_| next() as i8).collect();
            let limit: i64 = if wide { 1 << 20 } else { 1 << 15 };
            let wt: Vec<i32> = (0..o * i).map(|_| (next() as i64 % limit) as i32).collect();
            let xi: Vec<i32> = x.iter().map(|&v| v as i32).collect();
            prop_assert_eq!(dense(&x, &wt, o), kernels::dense(&xi, &wt, o));
        }
    }
}
