//! A DRAM model for the weight streams: one shared channel with a bandwidth in bytes per cycle
//! (fractional allowed) and a latency (fixed, or with seeded random jitter), serving the lanes
//! round-robin in words of the design's width (32 or 64 bits), each lane with a small prefetch
//! queue. It holds the whole data area (the `.lcw` data area, or the raw INT8 weights packed the
//! same way) and each lane reads its words from its offset.

use anyhow::{bail, Result};
use std::collections::VecDeque;

/// Bandwidth and latency of the weight memory.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DramConfig {
    /// Sustained bandwidth in bytes per accelerator cycle (> 0).
    pub bytes_per_cycle: f64,
    /// Cycles from a request to the data.
    pub latency: u32,
    /// Words a lane may have requested and not yet taken.
    pub queue_words: usize,
    /// DRAM bytes that one delivered word costs in bandwidth and energy, divided by 8: 1 for the
    /// stored streams; 4 models FP32 weight storage converted to INT8 at the memory interface.
    pub traffic_scale: f64,
    /// Extra latency drawn uniformly from `0..=jitter` cycles per request (words still arrive in
    /// order per lane); 0 for a fixed latency.
    pub jitter: u32,
    /// Seed of the jitter.
    pub seed: u64,
}

impl Default for DramConfig {
    fn default() -> Self {
        DramConfig {
            bytes_per_cycle: 2.0,
            latency: 32,
            queue_words: 8,
            traffic_scale: 1.0,
            jitter: 0,
            seed: 1,
        }
    }
}

impl DramConfig {
    /// Check the values.
    pub fn validate(&self) -> Result<()> {
        if !(self.bytes_per_cycle.is_finite() && self.bytes_per_cycle > 0.0) {
            bail!("DRAM bandwidth must be a positive number of bytes per cycle");
        }
        if self.queue_words == 0 {
            bail!("the DRAM queue must hold at least one word per lane");
        }
        if !(self.traffic_scale.is_finite() && self.traffic_scale >= 1.0) {
            bail!("the DRAM traffic scale must be at least 1");
        }
        Ok(())
    }
}

/// One lane's view of the memory: a range of words and the requests in flight.
#[derive(Clone, Debug)]
struct LanePort {
    first: usize,
    end: usize,
    next_request: usize,
    next_take: usize,
    arrivals: VecDeque<u64>,
}

/// The memory with its lanes for one layer.
#[derive(Clone, Debug)]
pub struct Dram<'a> {
    cfg: DramConfig,
    word_bytes: u64,
    words: &'a [u64],
    lanes: Vec<LanePort>,
    credit: f64,
    rr: usize,
    /// Words delivered to the lanes.
    pub words_read: u64,
    rng: u64,
}

impl<'a> Dram<'a> {
    /// A memory holding `words` of `word_bits` bits (32 or 64; each in the low bits of a `u64`),
    /// with lane `l` reading `ranges[l] = (first word, word count)`.
    pub fn new(
        cfg: DramConfig,
        word_bits: usize,
        words: &'a [u64],
        ranges: &[(usize, usize)],
    ) -> Result<Self> {
        cfg.validate()?;
        if word_bits != 32 && word_bits != 64 {
            bail!("memory words of {word_bits} bits: only 32 and 64 are modelled");
        }
        let mut lanes = Vec::with_capacity(ranges.len());
        for (l, &(first, n)) in ranges.iter().enumerate() {
            if first + n > words.len() {
                bail!(
                    "lane {l} reads words {first}..{} of a {}-word memory",
                    first + n,
                    words.len()
                );
            }
            lanes.push(LanePort {
                first,
                end: first + n,
                next_request: first,
                next_take: first,
                arrivals: VecDeque::new(),
            });
        }
        Ok(Dram {
            cfg,
            word_bytes: word_bits as u64 / 8,
            words,
            lanes,
            credit: 0.0,
            rng: cfg.seed | 1,
            rr: 0,
            words_read: 0,
        })
    }

    /// Advance to `cycle`: issue the requests the bandwidth allows; then, per lane, the word it
    /// presents this cycle (if one has arrived).
    pub fn step(&mut self, cycle: u64, presented: &mut [Option<u64>]) {
        let word_cost = self.word_bytes as f64 * self.cfg.traffic_scale;
        self.credit =
            (self.credit + self.cfg.bytes_per_cycle).min(word_cost.max(self.cfg.bytes_per_cycle));
        let n = self.lanes.len();
        while self.credit >= word_cost {
            let pick = (0..n).map(|i| (self.rr + i) % n).find(|&l| {
                let lane = &self.lanes[l];
                lane.next_request < lane.end && lane.arrivals.len() < self.cfg.queue_words
            });
            let Some(l) = pick else { break };
            let extra = if self.cfg.jitter == 0 {
                0
            } else {
                // xorshift64: deterministic per seed.
                self.rng ^= self.rng << 13;
                self.rng ^= self.rng >> 7;
                self.rng ^= self.rng << 17;
                self.rng % (self.cfg.jitter as u64 + 1)
            };
            let lane = &mut self.lanes[l];
            let arrival = cycle + self.cfg.latency as u64 + extra;
            let arrival = lane.arrivals.back().map_or(arrival, |&b| arrival.max(b));
            lane.arrivals.push_back(arrival);
            lane.next_request += 1;
            self.credit -= word_cost;
            self.rr = (l + 1) % n;
        }
        if !self.lanes.iter().any(|l| l.next_request < l.end) {
            self.credit = 0.0;
        }
        for (slot, lane) in presented.iter_mut().zip(&self.lanes) {
            *slot = match lane.arrivals.front() {
                Some(&t) if t <= cycle => Some(self.words[lane.next_take]),
                _ => None,
            };
        }
    }

    /// Lane `l` took the word it presented.
    pub fn take(&mut self, l: usize) {
        let lane = &mut self.lanes[l];
        lane.arrivals.pop_front();
        lane.next_take += 1;
        self.words_read += 1;
    }

    /// DRAM bytes moved so far (delivered words times the traffic scale).
    pub fn bytes(&self) -> f64 {
        self.words_read as f64 * self.word_bytes as f64 * self.cfg.traffic_scale
    }

    /// Words lane `l` still has to take.
    pub fn remaining(&self, l: usize) -> usize {
        let lane = &self.lanes[l];
        lane.end - lane.next_take
    }

    /// Index of lane `l`'s first word.
    pub fn first_word(&self, l: usize) -> usize {
        self.lanes[l].first
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(cfg: DramConfig, n: usize) -> u64 {
        drain_words(cfg, 64, n)
    }

    fn drain_words(cfg: DramConfig, word_bits: usize, n: usize) -> u64 {
        let words: Vec<u64> = (0..n as u64).collect();
        let mut d = Dram::new(cfg, word_bits, &words, &[(0, n)]).unwrap();
        let mut got = Vec::new();
        let mut slot = [None];
        let mut cycle = 0;
        while got.len() < n && cycle < 100_000 {
            d.step(cycle, &mut slot);
            if let Some(w) = slot[0] {
                got.push(w);
                d.take(0);
            }
            cycle += 1;
        }
        assert_eq!(got, words, "words arrive in order");
        cycle
    }

    #[test]
    fn bandwidth_and_latency_bound_the_delivery() {
        let n = 200;
        // A queue deeper than the latency, so that only the bandwidth limits the rate.
        let base = DramConfig {
            queue_words: 16,
            ..Default::default()
        };
        let fast = drain(
            DramConfig {
                bytes_per_cycle: 8.0,
                latency: 10,
                ..base
            },
            n,
        );
        let slow = drain(
            DramConfig {
                bytes_per_cycle: 1.0,
                latency: 10,
                ..base
            },
            n,
        );
        let fp32 = drain(
            DramConfig {
                bytes_per_cycle: 8.0,
                latency: 10,
                traffic_scale: 4.0,
                ..base
            },
            n,
        );
        // One word per cycle at 8 B/cycle, one per 8 cycles at 1 B/cycle, one per 4 with 4x traffic.
        assert!(fast >= n as u64 + 10 && fast <= n as u64 + 20, "{fast}");
        assert!(slow >= 8 * n as u64 && slow <= 8 * n as u64 + 40, "{slow}");
        assert!(fp32 >= 4 * n as u64 && fp32 <= 4 * n as u64 + 40, "{fp32}");
        // With 4 requests in flight and 10 cycles latency, at most 4 words per 10 cycles.
        let queued = drain(
            DramConfig {
                bytes_per_cycle: 8.0,
                latency: 10,
                queue_words: 4,
                ..base
            },
            n,
        );
        assert!(queued >= 10 * n as u64 / 4, "{queued}");
        // Random extra latency: still every word, in order (checked by `drain`), and slower.
        let jittered = drain(
            DramConfig {
                bytes_per_cycle: 8.0,
                latency: 10,
                jitter: 30,
                seed: 3,
                ..base
            },
            n,
        );
        assert!(jittered > fast, "{jittered} vs {fast}");
        // 32-bit words: twice the words per cycle at the same bandwidth.
        let narrow = drain_words(
            DramConfig {
                bytes_per_cycle: 2.0,
                latency: 10,
                ..base
            },
            32,
            n,
        );
        assert!(
            narrow >= 2 * n as u64 && narrow <= 2 * n as u64 + 20,
            "{narrow}"
        );
    }

    #[test]
    fn bad_configs_are_rejected() {
        assert!(DramConfig {
            bytes_per_cycle: 0.0,
            ..Default::default()
        }
        .validate()
        .is_err());
        assert!(DramConfig {
            queue_words: 0,
            ..Default::default()
        }
        .validate()
        .is_err());
        let words = [0u64; 4];
        assert!(Dram::new(DramConfig::default(), 64, &words, &[(2, 3)]).is_err());
        assert!(Dram::new(DramConfig::default(), 48, &words, &[(0, 3)]).is_err());
    }
}
