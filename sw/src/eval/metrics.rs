//! Metrics: top-1 accuracy, top-1 agreement between two models, signal-to-quantization-noise
//! ratio of outputs.

/// Index of the largest value (the first one on ties); `None` for an empty slice.
pub fn argmax(v: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &x) in v.iter().enumerate() {
        if best.is_none_or(|(_, b)| x > b) {
            best = Some((i, x));
        }
    }
    best.map(|(i, _)| i)
}

/// Fraction of outputs whose argmax equals the label.
pub fn accuracy(outputs: &[Vec<f32>], labels: &[usize]) -> f64 {
    if outputs.is_empty() {
        return 0.0;
    }
    let hits = outputs
        .iter()
        .zip(labels)
        .filter(|(o, &l)| argmax(o) == Some(l))
        .count();
    hits as f64 / outputs.len() as f64
}

/// Fraction of inputs on which both models pick the same top-1 class.
pub fn agreement(a: &[Vec<f32>], b: &[Vec<f32>]) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    a.iter()
        .zip(b)
        .filter(|(x, y)| argmax(x) == argmax(y))
        .count() as f64
        / a.len() as f64
}

/// `10 log10(sum ref^2 / sum (ref - test)^2)` over all outputs, in dB (infinite when equal).
pub fn sqnr_db(reference: &[Vec<f32>], test: &[Vec<f32>]) -> f64 {
    let (mut s, mut n) = (0f64, 0f64);
    for (r, t) in reference.iter().zip(test) {
        for (&a, &b) in r.iter().zip(t) {
            s += (a as f64).powi(2);
            n += (a as f64 - b as f64).powi(2);
        }
    }
    if n == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (s / n).log10()
    }
}

/// Half-width of the 95 % confidence interval (normal approximation) of the mean of the paired
/// differences `reference_ok[i] - test_ok[i]`: how precisely a set of this size measures the
/// quality drop of `test` against `reference`.
pub fn paired_drop_ci95(reference_ok: &[bool], test_ok: &[bool]) -> f64 {
    let n = reference_ok.len().min(test_ok.len());
    if n < 2 {
        return 1.0;
    }
    let d: Vec<f64> = reference_ok
        .iter()
        .zip(test_ok)
        .map(|(&a, &b)| f64::from(u8::from(a)) - f64::from(u8::from(b)))
        .collect();
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // With no observed difference the normal approximation says 0; the rule of three bounds it.
    (1.96 * (var / n as f64).sqrt()).max(3.0 / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_on_small_cases() {
        assert_eq!(argmax(&[1.0, 3.0, 3.0, -1.0]), Some(1));
        assert_eq!(argmax(&[]), None);
        let outs = vec![vec![0.0, 1.0], vec![2.0, 1.0], vec![0.0, 5.0]];
        assert!((accuracy(&outs, &[1, 1, 1]) - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(agreement(&outs, &outs), 1.0);
        assert!(sqnr_db(&outs, &outs).is_infinite());
        let noisy: Vec<Vec<f32>> = outs
            .iter()
            .map(|o| o.iter().map(|v| v + 0.1).collect())
            .collect();
        let db = sqnr_db(&outs, &noisy);
        // signal 0+1+4+1+0+25 = 31, noise 6 * 0.01
        assert!((db - 10.0 * (31.0f64 / 0.06).log10()).abs() < 1e-3, "{db}");
        // Differences 1, 0, 0, 0: mean 0.25, sample variance 0.25, half-width 1.96 * 0.25.
        let ci = paired_drop_ci95(&[true; 4], &[false, true, true, true]);
        assert!((ci - 0.75).abs() < 1e-12, "{ci}");
    }
}
