//! Shape-generic compute kernels shared by the float reference and the integer golden model:
//! convolution and dense accumulation, pooling windows, transposition.
//!
//! Every loop runs in a fixed order, so integer results are deterministic; integer accumulation
//! wraps modulo 2^32 exactly like a 32-bit hardware accumulator.

use super::graph::{Resolved, Window};

/// A multiply-accumulate element type.
pub trait Mac: Copy + Default {
    /// `acc + a * b` (wrapping for integers).
    fn mac(acc: Self, a: Self, b: Self) -> Self;
}

impl Mac for f32 {
    #[inline(always)]
    fn mac(acc: f32, a: f32, b: f32) -> f32 {
        acc + a * b
    }
}

impl Mac for i32 {
    #[inline(always)]
    fn mac(acc: i32, a: i32, b: i32) -> i32 {
        acc.wrapping_add(a.wrapping_mul(b))
    }
}

/// Geometry of one convolution call.
#[derive(Debug, Clone, Copy)]
pub struct ConvShape {
    /// Input channels.
    pub in_c: usize,
    /// Output channels.
    pub out_c: usize,
    /// Groups.
    pub groups: usize,
    /// Kernel height, width.
    pub kernel: [usize; 2],
    /// Strides.
    pub stride: [usize; 2],
    /// Dilations.
    pub dilation: [usize; 2],
    /// Resolved sizes and leading padding.
    pub res: Resolved,
}

impl ConvShape {
    /// Build from a window and channel counts.
    pub fn new(in_c: usize, out_c: usize, groups: usize, w: &Window, res: Resolved) -> Self {
        Self {
            in_c,
            out_c,
            groups,
            kernel: w.kernel,
            stride: [w.stride[0].max(1), w.stride[1].max(1)],
            dilation: [w.dilation[0].max(1), w.dilation[1].max(1)],
            res,
        }
    }
}

/// The half-open range of output positions whose input index `o*s + k*d - pad` lies in `0..n`.
pub(crate) fn valid_range(n: usize, out: usize, s: usize, kd: usize, pad: usize) -> (usize, usize) {
    // o*s + kd >= pad  <=>  o >= ceil((pad - kd) / s)
    let lo = if kd >= pad { 0 } else { (pad - kd).div_ceil(s) };
    // o*s + kd - pad <= n - 1  <=>  o <= (n - 1 + pad - kd) / s
    let hi = if n + pad < kd + 1 {
        0
    } else {
        ((n - 1 + pad - kd) / s + 1).min(out)
    };
    (lo.min(hi), hi)
}

/// Every read of the convolution's input channels `c0..c0 + n` outside the padding: `f(j, p, i)`
/// for kernel tap `j` (channel, kernel row, kernel column, numbered from 0 at `c0`), output
/// position `p` (row-major) and the index `i` of the input value it reads in `input` `[C, H, W]`.
#[inline(always)]
pub(crate) fn each_tap_read(
    c0: usize,
    n: usize,
    sh: &ConvShape,
    mut f: impl FnMut(usize, usize, usize),
) {
    let [h, w] = sh.res.in_hw;
    let [oh, ow] = sh.res.out_hw;
    let [kh, kw] = sh.kernel;
    let [pt, pl] = sh.res.pad_begin;
    for ic in 0..n {
        let base = (c0 + ic) * h * w;
        for ky in 0..kh {
            let (y0, y1) = valid_range(h, oh, sh.stride[0], ky * sh.dilation[0], pt);
            for kx in 0..kw {
                let (x0, x1) = valid_range(w, ow, sh.stride[1], kx * sh.dilation[1], pl);
                let j = (ic * kh + ky) * kw + kx;
                for oy in y0..y1 {
                    let row = base + (oy * sh.stride[0] + ky * sh.dilation[0] - pt) * w;
                    for ox in x0..x1 {
                        let ix = ox * sh.stride[1] + kx * sh.dilation[1] - pl;
                        f(j, oy * ow + ox, row + ix);
                    }
                }
            }
        }
    }
}

/// Convolution accumulators `[O, OH, OW]` without bias: `input` is `[C, H, W]`, `weight` is
/// `[O, C/groups, KH, KW]`. Summation order: input channel, kernel row, kernel column.
pub fn conv2d<T: Mac>(input: &[T], weight: &[T], sh: &ConvShape) -> Vec<T> {
    let [h, w] = sh.res.in_hw;
    let [oh, ow] = sh.res.out_hw;
    let [kh, kw] = sh.kernel;
    let [pt, pl] = sh.res.pad_begin;
    let ig = sh.in_c / sh.groups;
    let og = sh.out_c / sh.groups;
    let mut out = vec![T::default(); sh.out_c * oh * ow];
    let xr: Vec<(usize, usize)> = (0..kw)
        .map(|kx| valid_range(w, ow, sh.stride[1], kx * sh.dilation[1], pl))
        .collect();
    let yr: Vec<(usize, usize)> = (0..kh)
        .map(|ky| valid_range(h, oh, sh.stride[0], ky * sh.dilation[0], pt))
        .collect();
    for o in 0..sh.out_c {
        let g = o / og;
        let oplane = &mut out[o * oh * ow..(o + 1) * oh * ow];
        for ic in 0..ig {
            let c = g * ig + ic;
            let iplane = &input[c * h * w..(c + 1) * h * w];
            let wbase = ((o * ig) + ic) * kh * kw;
            for ky in 0..kh {
                let (y0, y1) = yr[ky];
                for kx in 0..kw {
                    let wv = weight[wbase + ky * kw + kx];
                    let (x0, x1) = xr[kx];
                    if x0 == x1 {
                        // This tap reads padding only.
                        continue;
                    }
                    for oy in y0..y1 {
                        let iy = oy * sh.stride[0] + ky * sh.dilation[0] - pt;
                        let irow = &iplane[iy * w..(iy + 1) * w];
                        let orow = &mut oplane[oy * ow..(oy + 1) * ow];
                        let xoff = kx * sh.dilation[1];
                        if sh.stride[1] == 1 {
                            let base = x0 + xoff - pl;
                            for (acc, &iv) in
                                orow[x0..x1].iter_mut().zip(&irow[base..base + (x1 - x0)])
                            {
                                *acc = T::mac(*acc, iv, wv);
                            }
                        } else {
                            for (ox, acc) in orow.iter_mut().enumerate().take(x1).skip(x0) {
                                let ix = ox * sh.stride[1] + xoff - pl;
                                *acc = T::mac(*acc, irow[ix], wv);
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Dense accumulators `W x` without bias: `weight` is `[O, I]`, summed in input order.
pub fn dense<T: Mac>(input: &[T], weight: &[T], out_n: usize) -> Vec<T> {
    let i_n = input.len();
    (0..out_n)
        .map(|o| {
            weight[o * i_n..(o + 1) * i_n]
                .iter()
                .zip(input)
                .fold(T::default(), |acc, (&wv, &x)| T::mac(acc, x, wv))
        })
        .collect()
}

/// For each output position of a pooling window, visit the valid input positions.
/// `f(out_index, channel, input_indices)` gets the flat indices inside the channel plane.
pub fn pool_windows(
    c: usize,
    res: &Resolved,
    w: &Window,
    mut f: impl FnMut(usize, usize, &[usize], usize),
) {
    let [h, wd] = res.in_hw;
    let [oh, ow] = res.out_hw;
    let [pt, pl] = res.pad_begin;
    let [kh, kw] = w.kernel;
    let mut idx = Vec::with_capacity(kh * kw);
    for ch in 0..c {
        for oy in 0..oh {
            for ox in 0..ow {
                idx.clear();
                let mut padded = 0usize;
                for ky in 0..kh {
                    for kx in 0..kw {
                        let iy = (oy * w.stride[0].max(1) + ky * w.dilation[0].max(1)) as isize
                            - pt as isize;
                        let ix = (ox * w.stride[1].max(1) + kx * w.dilation[1].max(1)) as isize
                            - pl as isize;
                        if iy >= 0 && ix >= 0 && (iy as usize) < h && (ix as usize) < wd {
                            idx.push(iy as usize * wd + ix as usize);
                        } else {
                            padded += 1;
                        }
                    }
                }
                f((ch * oh + oy) * ow + ox, ch, &idx, padded);
            }
        }
    }
}

/// Permute the axes of a row-major tensor: output axis `i` is input axis `perm[i]`.
pub fn transpose<T: Copy + Default>(
    data: &[T],
    shape: &[usize],
    perm: &[usize],
) -> (Vec<T>, Vec<usize>) {
    let out_shape: Vec<usize> = perm.iter().map(|&p| shape[p]).collect();
    let rank = shape.len();
    let mut in_strides = vec![1usize; rank];
    for i in (0..rank.saturating_sub(1)).rev() {
        in_strides[i] = in_strides[i + 1] * shape[i + 1];
    }
    let strides: Vec<usize> = perm.iter().map(|&p| in_strides[p]).collect();
    let mut out = vec![T::default(); data.len()];
    let mut pos = vec![0usize; rank];
    for o in out.iter_mut() {
        let src: usize = pos.iter().zip(&strides).map(|(a, b)| a * b).sum();
        *o = data[src];
        for ax in (0..rank).rev() {
            pos[ax] += 1;
            if pos[ax] < out_shape[ax] {
                break;
            }
            pos[ax] = 0;
        }
    }
    (out, out_shape)
}
