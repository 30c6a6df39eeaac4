//! Bias correction: the weight error of a layer (`dequantized - float`) shifts each output
//! channel's accumulator by `sum_k dw[o][k] * x[k]` on average; subtracting its expectation over
//! the calibration inputs from the bias removes that systematic offset at no hardware cost (the
//! bias is a parameter of the layer). A convolution input element is represented by its input
//! channel's mean over all positions (zero padding is not counted).

use crate::quant::Quantized;

/// Expected accumulator error per output channel, in real units: `sum_k (q[o][k] * scale[o] -
/// w[o][k]) * mean[k]`. `float_w` are the float weights of shape `q.dims` (`[O, I/groups, KH,
/// KW]` or `[O, I]`); `input_mean` is the element-wise mean of the layer input (`[C, H, W]` with
/// `C = I/groups * groups`, or `[I]`). `None` when the shapes do not fit together.
pub fn expected_error(
    float_w: &[f32],
    q: &Quantized,
    groups: usize,
    input_mean: &[f64],
) -> Option<Vec<f64>> {
    let o = q.channels();
    let per = q.channel_len();
    let ig = *q.dims.get(1)?;
    let groups = groups.max(1);
    if float_w.len() != q.values.len()
        || ig == 0
        || !per.is_multiple_of(ig)
        || !o.is_multiple_of(groups)
    {
        return None;
    }
    let taps = per / ig;
    let channels = ig * groups;
    if input_mean.is_empty() || !input_mean.len().is_multiple_of(channels) {
        return None;
    }
    let plane = input_mean.len() / channels;
    let channel_mean: Vec<f64> = input_mean
        .chunks(plane)
        .map(|c| c.iter().sum::<f64>() / plane as f64)
        .collect();
    let per_group = o / groups;
    let err = (0..o)
        .map(|c| {
            let base = (c / per_group) * ig;
            let scale = q.scales[c] as f64;
            (0..per)
                .map(|k| {
                    let i = c * per + k;
                    let dw = q.values[i] as f64 * scale - float_w[i] as f64;
                    dw * channel_mean[base + k / taps]
                })
                .sum()
        })
        .collect();
    Some(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantized(dims: &[usize], values: Vec<i32>, scales: Vec<f32>) -> Quantized {
        Quantized {
            bits: 8,
            dims: dims.to_vec(),
            values,
            scales,
        }
    }

    #[test]
    fn dense_error_is_weight_error_times_input_mean() {
        // Two outputs, three inputs; dequantized weights are q * 0.5.
        let w = [1.0, -0.2, 0.0, 0.3, 0.3, -1.0];
        let q = quantized(&[2, 3], vec![2, 0, 1, 1, 0, -2], vec![0.5, 0.5]);
        // dw = [0, 0.2, 0.5], [0.2, -0.3, 0]; mean x = [1, 2, -4]
        // out 0: 0 + 0.4 - 2.0 = -1.6; out 1: 0.2 - 0.6 + 0 = -0.4
        let e = expected_error(&w, &q, 1, &[1.0, 2.0, -4.0]).unwrap();
        assert!(
            (e[0] + 1.6).abs() < 1e-6 && (e[1] + 0.4).abs() < 1e-6,
            "{e:?}"
        );
    }

    #[test]
    fn grouped_conv_uses_its_groups_channel_means() {
        // Depthwise 1x2 kernels on 2 channels of 2x2 inputs: channel means 1.5 and -2.
        let w = [0.0; 4];
        let q = quantized(&[2, 1, 1, 2], vec![1, 1, 2, -1], vec![1.0, 0.5]);
        let mean = [1.0, 2.0, 1.0, 2.0, -2.0, -2.0, -2.0, -2.0];
        let e = expected_error(&w, &q, 2, &mean).unwrap();
        // out 0: (1 + 1) * 1.5 = 3; out 1: (1 - 0.5) * -2 = -1
        assert!(
            (e[0] - 3.0).abs() < 1e-6 && (e[1] + 1.0).abs() < 1e-6,
            "{e:?}"
        );
        assert!(expected_error(&w, &q, 2, &mean[..7]).is_none());
        assert!(expected_error(&w, &q, 3, &mean).is_none());
    }

    #[test]
    fn corrected_bias_removes_the_mean_output_error() {
        // A dense layer whose quantized weights are all a little too large, inputs around a
        // non-zero mean: the output error averages out only with the correction.
        let (o, i) = (3usize, 16usize);
        let w: Vec<f32> = (0..o * i)
            .map(|k| ((k * 37 % 23) as f32 - 11.0) * 0.01)
            .collect();
        let scale = 0.013f32;
        let values: Vec<i32> = w.iter().map(|x| (x / scale).ceil() as i32).collect();
        let q = quantized(&[o, i], values, vec![scale; o]);
        let inputs: Vec<Vec<f64>> = (0..400)
            .map(|n| {
                (0..i)
                    .map(|k| 0.8 + ((n * 31 + k * 17) % 19) as f64 * 0.1 - 0.9)
                    .collect()
            })
            .collect();
        let mean: Vec<f64> = (0..i)
            .map(|k| inputs.iter().map(|x| x[k]).sum::<f64>() / inputs.len() as f64)
            .collect();
        let e = expected_error(&w, &q, 1, &mean).unwrap();
        for c in 0..o {
            let (mut plain, mut corrected) = (0.0, 0.0);
            for x in &inputs {
                let diff: f64 = (0..i)
                    .map(|k| {
                        (q.values[c * i + k] as f64 * scale as f64 - w[c * i + k] as f64) * x[k]
                    })
                    .sum();
                plain += diff;
                corrected += diff - e[c];
            }
            let n = inputs.len() as f64;
            assert!(
                (plain / n).abs() > 0.01,
                "channel {c}: no offset to correct"
            );
            assert!(
                (corrected / n).abs() < 1e-9,
                "channel {c}: {}",
                corrected / n
            );
        }
    }
}
