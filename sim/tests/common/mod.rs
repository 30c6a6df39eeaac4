//! Helpers shared by the regression tests.
#![allow(dead_code)]

use lc_sim::check::{CaseReport, LaneBytes};
use lc_sw::codec::LaneStream;
use std::sync::Mutex;

/// Running totals of a test, printed at its end (`cargo test -- --nocapture` shows them).
#[derive(Debug, Default)]
pub struct Tally {
    pub vectors: u64,
    pub lanes_accepted: u64,
    pub lanes_rejected: u64,
    pub weights: u64,
    pub cycles: u64,
}

impl Tally {
    pub fn add(&mut self, r: &CaseReport) {
        self.vectors += 1;
        self.lanes_accepted += r.accepted_lanes as u64;
        self.lanes_rejected += r.rejected_lanes as u64;
        self.weights += r.weights;
        self.cycles += r.cycles;
    }

    pub fn print(&self, what: &str) {
        eprintln!(
            "[{what}] vectors={} lanes_accepted={} lanes_rejected={} weights_compared={} cycles={} mismatches=0",
            self.vectors, self.lanes_accepted, self.lanes_rejected, self.weights, self.cycles
        );
    }
}

/// A tally shared by the threads of one proptest run.
pub fn shared_tally() -> Mutex<Tally> {
    Mutex::new(Tally::default())
}

pub fn lane_bytes(s: LaneStream) -> LaneBytes {
    LaneBytes {
        bytes: s.bytes,
        length_bits: s.length_bits,
        count: s.count,
    }
}

/// (model/layer name, per-channel quantized weights) of every weight tensor of an ONNX file.
pub fn model_layers(file: &std::path::Path, bits: u8) -> Vec<(String, Vec<Vec<i32>>)> {
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tensors = lc_sw::model::onnx::load_weights(file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    tensors
        .iter()
        .map(|t| {
            let q = lc_sw::quant::quantize_per_channel(&t.data, &t.dims, bits).expect("quantize");
            let per = q.values.len() / t.dims[0];
            let channels = q.values.chunks(per).map(|c| c.to_vec()).collect();
            (format!("{stem}/{}", t.name), channels)
        })
        .collect()
}
