//! Drives one layer through a decompressor simulation: lane streams come from a memory model with
//! random latency and random gaps in `in_valid`, weights leave under random back-pressure on
//! `out_ready`. Everything random derives from one seed, so a run can be repeated exactly (for
//! example with tracing on after a failure).

use crate::dut::{cfg_values, Dut, Pin};
use anyhow::{bail, Result};
use lc_sw::codec::LayerParams;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::VecDeque;

/// One lane's stream as the memory holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LaneInput {
    /// The stream packed into `word_bits`-bit words (FORMAT.md section 3), one per `u64`.
    pub words: Vec<u64>,
    /// Exact length of the stream in bits.
    pub length_bits: u64,
    /// Number of weights.
    pub count: u64,
}

impl LaneInput {
    /// Pack a byte stream into `word_bits`-bit words (32 or 64, the width of the design's
    /// `in_data`); bits after `length_bits` are kept as the bytes hold them. Fails if the bytes
    /// hold fewer than `length_bits` bits.
    pub fn from_bytes(bytes: &[u8], length_bits: u64, count: u64, word_bits: u64) -> Result<Self> {
        if length_bits > bytes.len() as u64 * 8 {
            bail!(
                "stream declares {length_bits} bits but holds {}",
                bytes.len() * 8
            );
        }
        if word_bits != 32 && word_bits != 64 {
            bail!("memory words of {word_bits} bits are not supported");
        }
        let n = length_bits.div_ceil(word_bits) as usize;
        let per = word_bits as usize / 8;
        let words = (0..n)
            .map(|i| {
                let mut w = [0u8; 8];
                let chunk = bytes.iter().skip(i * per).take(per);
                w.iter_mut().zip(chunk).for_each(|(d, s)| *d = *s);
                u64::from_le_bytes(w)
            })
            .collect();
        Ok(LaneInput {
            words,
            length_bits,
            count,
        })
    }
}

/// Memory and consumer behaviour around the decompressor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pressure {
    /// Probability that a word the memory could deliver is withheld this cycle.
    pub in_gap: f64,
    /// Probability that the consumer is not ready this cycle.
    pub out_stall: f64,
    /// Memory latency in cycles, drawn uniformly from this range per request.
    pub latency: (u32, u32),
    /// Requests the memory keeps in flight per lane.
    pub outstanding: usize,
}

impl Pressure {
    /// No gaps, no back-pressure, a pipelined memory that delivers one word per cycle.
    pub const FULL_SPEED: Pressure = Pressure {
        in_gap: 0.0,
        out_stall: 0.0,
        latency: (1, 1),
        outstanding: 4,
    };

    /// Random gaps, back-pressure and latency, drawn from `rng`.
    pub fn random(rng: &mut impl Rng) -> Pressure {
        let lo = rng.gen_range(0..8);
        Pressure {
            in_gap: rng.gen_range(0.0..0.6),
            out_stall: rng.gen_range(0.0..0.6),
            latency: (lo, lo + rng.gen_range(0..12)),
            outstanding: rng.gen_range(1..6),
        }
    }

    /// A cycle budget no correct run can exceed (the run is declared hung past it).
    fn cycle_budget(&self, lanes: &[LaneInput]) -> u64 {
        let work: u64 = lanes
            .iter()
            .map(|l| l.words.len() as u64 + l.count)
            .max()
            .unwrap_or(0);
        let slow = 1.0 / ((1.0 - self.in_gap.max(self.out_stall)).max(0.05));
        let per_item = (self.latency.1 as u64 + 2) * slow.ceil() as u64;
        1_000 + work * per_item * 4
    }
}

/// What one lane did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LaneOutcome {
    /// Weights taken from the output, in order.
    pub weights: Vec<i32>,
    /// Indices (into `weights`) of the weights that carried `out_last`.
    pub last_at: Vec<usize>,
    /// The error flag was raised.
    pub error: bool,
    /// The done flag was raised.
    pub done: bool,
    /// Cycle (after start) in which the error flag was first seen.
    pub error_cycle: Option<u64>,
    /// Cycle (after start) in which the lane finished (flag raised and output drained).
    pub finish_cycle: Option<u64>,
    /// Memory words the lane took.
    pub words_taken: usize,
    /// Cycle (after start) in which the first weight was taken.
    pub first_weight_cycle: Option<u64>,
    /// Cycle (after start) in which the last weight was taken.
    pub last_weight_cycle: Option<u64>,
}

/// What a layer run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LayerOutcome {
    /// Per lane.
    pub lanes: Vec<LaneOutcome>,
    /// Cycles from start until every lane finished (or the budget ran out).
    pub cycles: u64,
    /// The run hit the cycle budget with a lane neither done nor in error.
    pub hung: bool,
    /// If requested: every output pin of every lane, every cycle ([`Pin::OUTPUTS`] order).
    pub trace: Vec<Vec<u64>>,
}

/// Options of [`run_layer`].
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Environment behaviour.
    pub pressure: Pressure,
    /// Seed of every random choice.
    pub seed: u64,
    /// Record the outputs every cycle.
    pub record: bool,
    /// Override the cycle budget.
    pub max_cycles: Option<u64>,
}

struct MemoryLane<'a> {
    input: &'a LaneInput,
    next_request: usize,
    in_flight: VecDeque<u64>,
    last_arrival: u64,
    presented: bool,
    ready: bool,
    out: LaneOutcome,
    finished: bool,
}

/// Reset the design, configure it, start it and run until every lane has finished.
pub fn run_layer(
    dut: &mut dyn Dut,
    params: &LayerParams,
    lanes: &[LaneInput],
    opts: &RunOptions,
) -> Result<LayerOutcome> {
    if lanes.len() != dut.lanes() {
        bail!(
            "{} lane streams for a {}-lane design",
            lanes.len(),
            dut.lanes()
        );
    }
    let cfg = cfg_values(params)?;
    let mut rng = StdRng::seed_from_u64(opts.seed);
    let p = opts.pressure;
    let budget = opts.max_cycles.unwrap_or_else(|| p.cycle_budget(lanes));
    let marks_last = dut.has_pin(Pin::InLast);

    dut.set_pin(Pin::Reset, 0, 1)?;
    dut.tick()?;
    dut.set_pin(Pin::Reset, 0, 0)?;
    dut.set_cfg(&cfg)?;
    for (l, lane) in lanes.iter().enumerate() {
        dut.set_pin(Pin::LengthBits, l, lane.length_bits)?;
        dut.set_pin(Pin::Count, l, lane.count)?;
        dut.set_pin(Pin::InValid, l, 0)?;
        dut.set_pin(Pin::OutReady, l, 0)?;
    }
    dut.set_pin(Pin::Start, 0, 1)?;
    dut.tick()?;
    dut.set_pin(Pin::Start, 0, 0)?;

    let mut mem: Vec<MemoryLane> = lanes
        .iter()
        .map(|input| MemoryLane {
            input,
            next_request: 0,
            in_flight: VecDeque::new(),
            last_arrival: 0,
            presented: false,
            ready: false,
            out: LaneOutcome::default(),
            finished: false,
        })
        .collect();
    let mut out = LayerOutcome::default();
    let mut cycle = 0u64;
    while cycle < budget && mem.iter().any(|m| !m.finished) {
        for (l, m) in mem.iter_mut().enumerate() {
            // One request per cycle, up to `outstanding` in flight, delivered in order.
            if m.in_flight.len() < p.outstanding && m.next_request < m.input.words.len() {
                let lat = rng.gen_range(p.latency.0..=p.latency.1) as u64;
                m.last_arrival = m.last_arrival.max(cycle + lat);
                m.in_flight.push_back(m.last_arrival);
                m.next_request += 1;
            }
            let taken = m.out.words_taken;
            let arrived = m.in_flight.front().is_some_and(|&t| t <= cycle);
            m.presented = arrived && !rng.gen_bool(p.in_gap);
            dut.set_pin(Pin::InValid, l, m.presented as u64)?;
            if m.presented {
                dut.set_pin(Pin::InData, l, m.input.words[taken])?;
                if marks_last {
                    let last = taken + 1 == m.input.words.len();
                    dut.set_pin(Pin::InLast, l, last as u64)?;
                }
            }
            m.ready = !rng.gen_bool(p.out_stall);
            dut.set_pin(Pin::OutReady, l, m.ready as u64)?;
        }
        dut.settle()?;
        let mut row = Vec::new();
        for (l, m) in mem.iter_mut().enumerate() {
            let mut v = [0u64; Pin::OUTPUTS.len()];
            for (slot, pin) in v.iter_mut().zip(Pin::OUTPUTS) {
                *slot = dut.get_pin(pin, l)?;
            }
            let [in_ready, weight, out_valid, out_last, error, done] = v;
            let out_ready = m.ready as u64;
            if opts.record {
                row.extend_from_slice(&v);
            }
            if m.presented && in_ready == 1 {
                m.in_flight.pop_front();
                m.out.words_taken += 1;
            }
            if out_valid == 1 && out_ready == 1 {
                if out_last == 1 {
                    m.out.last_at.push(m.out.weights.len());
                }
                m.out.weights.push(weight as u16 as i16 as i32);
                m.out.first_weight_cycle.get_or_insert(cycle);
                m.out.last_weight_cycle = Some(cycle);
            }
            if error == 1 && m.out.error_cycle.is_none() {
                m.out.error_cycle = Some(cycle);
            }
            m.out.error |= error == 1;
            m.out.done |= done == 1;
            let drained = out_valid == 0 || out_ready == 1;
            if !m.finished && (error == 1 || done == 1) && drained {
                m.finished = true;
                m.out.finish_cycle = Some(cycle);
            }
        }
        if opts.record {
            out.trace.push(row);
        }
        dut.tick()?;
        cycle += 1;
    }
    out.hung = mem.iter().any(|m| !m.finished);
    out.cycles = cycle;
    out.lanes = mem.into_iter().map(|m| m.out).collect();
    Ok(out)
}
