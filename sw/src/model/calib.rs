//! Activation calibration: the largest magnitude each value takes over a calibration set and
//! its element-wise mean (for bias correction), measured with the float reference executor.

use super::float_exec::{self, ExecError};
use super::graph::{Graph, Tensor};

/// Per-value maximum magnitude observed during calibration.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    /// `max_abs[v]` for every value id `v` (0 for values never computed).
    pub max_abs: Vec<f32>,
    /// Element-wise sum of every value over the calibration inputs (empty for values never
    /// computed); [`Calibration::mean`] divides by `count`.
    pub sum: Vec<Vec<f64>>,
    /// Number of calibration inputs seen.
    pub count: usize,
}

impl Calibration {
    /// An empty calibration for a graph with `num_values` values.
    pub fn new(num_values: usize) -> Self {
        Self {
            max_abs: vec![0.0; num_values],
            sum: vec![Vec::new(); num_values],
            count: 0,
        }
    }

    /// Fold one run's values into the ranges.
    pub fn observe(&mut self, values: &[Option<crate::model::graph::Tensor>]) {
        for ((m, sum), v) in self.max_abs.iter_mut().zip(&mut self.sum).zip(values) {
            if let Some(t) = v {
                *m = t
                    .data
                    .iter()
                    .fold(*m, |a, x| if x.is_finite() { a.max(x.abs()) } else { a });
                add_into(sum, &t.data);
            }
        }
        self.count += 1;
    }

    /// Merge another calibration of the same graph (e.g. from another thread).
    pub fn merge(&mut self, other: &Calibration) {
        for (a, b) in self.max_abs.iter_mut().zip(&other.max_abs) {
            *a = a.max(*b);
        }
        for (a, b) in self.sum.iter_mut().zip(&other.sum) {
            add_into(a, b);
        }
        self.count += other.count;
    }

    /// Element-wise mean of value `v` over the calibration inputs (`None` when never computed).
    pub fn mean(&self, v: usize) -> Option<Vec<f64>> {
        let sum = self.sum.get(v).filter(|s| !s.is_empty())?;
        let n = self.count.max(1) as f64;
        Some(sum.iter().map(|x| x / n).collect())
    }

    /// The int8 scale of value `v`: `max_abs / 127` (a tiny positive scale when the range is 0).
    pub fn scale(&self, v: usize) -> f32 {
        let m = self.max_abs.get(v).copied().unwrap_or(0.0);
        if m > 0.0 {
            m / 127.0
        } else {
            1.0 / 127.0
        }
    }
}

/// `acc += x` element-wise (non-finite values count as 0); an empty `acc` takes `x`'s length.
fn add_into<T: Copy + Into<f64>>(acc: &mut Vec<f64>, x: &[T]) {
    if acc.is_empty() {
        acc.resize(x.len(), 0.0);
    }
    for (a, &v) in acc.iter_mut().zip(x) {
        let v: f64 = v.into();
        if v.is_finite() {
            *a += v;
        }
    }
}

/// Calibrate `graph` on `inputs`.
pub fn calibrate(graph: &Graph, inputs: &[Tensor]) -> Result<Calibration, ExecError> {
    let mut c = Calibration::new(graph.num_values);
    for x in inputs {
        c.observe(&float_exec::run_all(graph, x)?);
    }
    Ok(c)
}
