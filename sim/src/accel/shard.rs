//! Regressions spread over machines: a shard of the images of a verification run, the JSON
//! record a run writes, and the merge of the shards' records into the record of the whole run.

use super::device::Memory;
use super::verify::StoreSummary;
use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Every `count`-th image starting at `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// First image, below `count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// Parse `I/N` with `I < N`.
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("shard '{s}' is not I/N with 0 <= I < N");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What must agree between the shards of one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Model name.
    pub model: String,
    /// Where the inputs come from.
    pub dataset: String,
    /// Images of the whole run, before sharding.
    pub run_images: usize,
    /// Calibration inputs.
    pub calib: usize,
    /// Label of the compressed weight store.
    pub store: String,
    /// MAC lanes.
    pub mac_lanes: usize,
    /// Decompressor lanes of the compressed store.
    pub decoders: usize,
    /// Weight memory (`dram`, or `qspi` for the flash top).
    #[serde(default)]
    pub memory: Memory,
    /// Weight memory bytes per cycle.
    pub bandwidth: f64,
    /// Weight memory latency, cycles.
    pub latency: u32,
    /// Conv/Dense layers run on the host instead of the RTL (`--host-fallback`), with the
    /// reason; their cycles and energy are not counted.
    pub host_layers: Vec<String>,
}

/// Sums of one weight store over the images of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreTotals {
    /// Images with a mismatch.
    pub mismatches: usize,
    /// Correct top-1 classifications.
    pub correct: usize,
    /// Datapath cycles.
    pub cycles: u64,
    /// Energy, pJ.
    pub energy_pj: f64,
}

impl StoreTotals {
    /// The totals of a store's summary.
    pub fn of(s: &StoreSummary) -> Self {
        StoreTotals {
            mismatches: s.mismatches,
            correct: s.correct,
            cycles: s.cycles_total,
            energy_pj: s.energy_total_pj,
        }
    }

    fn add(&mut self, o: &StoreTotals) {
        self.mismatches += o.mismatches;
        self.correct += o.correct;
        self.cycles += o.cycles;
        self.energy_pj += o.energy_pj;
    }
}

/// The record `verify --json` prints: the configuration, the totals per store and the
/// per-inference means derived from them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VerifyRecord {
    /// The run's configuration.
    #[serde(flatten)]
    pub config: RunConfig,
    /// The shard this record covers (`None`: the whole run).
    pub shard: Option<Shard>,
    /// Images run.
    pub images: usize,
    /// Images with a mismatch, over all stores.
    pub mismatches: usize,
    /// Mean cycles per inference, the weights stored as FP32 (4 bytes each, converted to int8
    /// at the memory interface).
    pub cycles_fp32: f64,
    /// Mean energy per inference, FP32 storage, pJ.
    pub energy_fp32_pj: f64,
    /// Mean cycles per inference, raw INT8 weights.
    pub cycles_uncompressed: f64,
    /// Mean cycles per inference, LineCompress weights.
    pub cycles_compressed: f64,
    /// Mean energy per inference, raw INT8 weights, pJ.
    pub energy_uncompressed_pj: f64,
    /// Mean energy per inference, LineCompress weights, pJ.
    pub energy_compressed_pj: f64,
    /// Totals with FP32 storage.
    pub fp32: StoreTotals,
    /// Totals with raw INT8 weights.
    pub uncompressed: StoreTotals,
    /// Totals with LineCompress weights.
    pub compressed: StoreTotals,
}

impl VerifyRecord {
    /// The record of `images` images with these totals (`[fp32, uncompressed, compressed]`).
    pub fn new(
        config: RunConfig,
        shard: Option<Shard>,
        images: usize,
        [fp32, uncompressed, compressed]: [StoreTotals; 3],
    ) -> Self {
        let mean = |v: f64| if images == 0 { 0.0 } else { v / images as f64 };
        VerifyRecord {
            config,
            shard,
            images,
            mismatches: fp32.mismatches + uncompressed.mismatches + compressed.mismatches,
            cycles_fp32: mean(fp32.cycles as f64),
            energy_fp32_pj: mean(fp32.energy_pj),
            cycles_uncompressed: mean(uncompressed.cycles as f64),
            cycles_compressed: mean(compressed.cycles as f64),
            energy_uncompressed_pj: mean(uncompressed.energy_pj),
            energy_compressed_pj: mean(compressed.energy_pj),
            fp32,
            uncompressed,
            compressed,
        }
    }

    /// The record of the whole run from the records of all its shards (each exactly once, the
    /// same configuration): totals summed, means derived again.
    pub fn merge(records: &[VerifyRecord]) -> Result<VerifyRecord> {
        let Some(first) = records.first() else {
            bail!("no records to merge");
        };
        let mut seen = Vec::new();
        for r in records {
            if r.config != first.config {
                bail!(
                    "records of different runs: {:?} and {:?}",
                    first.config,
                    r.config
                );
            }
            let Some(s) = r.shard else {
                bail!("a record of a whole run (no shard) cannot be merged");
            };
            seen.push(s);
        }
        let count = seen[0].count;
        seen.sort_by_key(|s| (s.count, s.index));
        let expected: Vec<Shard> = (0..count).map(|index| Shard { index, count }).collect();
        if seen != expected {
            let got: Vec<String> = seen.iter().map(Shard::to_string).collect();
            bail!(
                "shards {} are not each of 0/{count} .. {}/{count} exactly once",
                got.join(", "),
                count - 1
            );
        }
        let mut totals = [StoreTotals::default(); 3];
        let mut images = 0;
        for r in records {
            for (t, o) in totals
                .iter_mut()
                .zip([&r.fp32, &r.uncompressed, &r.compressed])
            {
                t.add(o);
            }
            images += r.images;
        }
        Ok(VerifyRecord::new(
            first.config.clone(),
            None,
            images,
            totals,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(shard: Option<Shard>, images: usize, cycles: u64) -> VerifyRecord {
        let config = RunConfig {
            model: "m".into(),
            dataset: "random:1".into(),
            run_images: 3,
            calib: 10,
            store: "lc-rice-eps2".into(),
            mac_lanes: 4,
            decoders: 4,
            memory: Memory::Dram,
            bandwidth: 2.0,
            latency: 32,
            host_layers: Vec::new(),
        };
        let t = |c: u64, mm: usize| StoreTotals {
            mismatches: mm,
            correct: images,
            cycles: c,
            energy_pj: c as f64 * 0.5,
        };
        VerifyRecord::new(
            config,
            shard,
            images,
            [t(8 * cycles, 0), t(2 * cycles, 1), t(cycles, 0)],
        )
    }

    #[test]
    fn shards_parse_and_reject_bad_forms() {
        assert_eq!("1/3".parse(), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/3", "1", "a/2", "-1/2", "0/0"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn merging_sums_totals_and_derives_the_means() {
        let s = |index| Some(Shard { index, count: 2 });
        let m = VerifyRecord::merge(&[record(s(1), 1, 100), record(s(0), 2, 400)]).unwrap();
        assert_eq!((m.images, m.mismatches, m.shard), (3, 2, None));
        assert_eq!(m.compressed.cycles, 500);
        assert_eq!(m.uncompressed.cycles, 1000);
        assert_eq!(m.fp32.cycles, 4000);
        assert_eq!(m.cycles_fp32, 4000.0 / 3.0);
        // Means over the 3 images, not the mean of the two shards' means (175 and 250).
        assert_eq!(m.cycles_compressed, 500.0 / 3.0);
        assert_eq!(m.energy_uncompressed_pj, 500.0 / 3.0);
        assert_eq!(m.compressed.correct, 3);
    }

    #[test]
    fn merging_needs_every_shard_of_one_run_once() {
        let s = |index, count| Some(Shard { index, count });
        let r = |sh| record(sh, 1, 10);
        assert!(VerifyRecord::merge(&[]).is_err());
        assert!(VerifyRecord::merge(&[r(s(0, 2))]).is_err());
        assert!(VerifyRecord::merge(&[r(s(0, 2)), r(s(0, 2))]).is_err());
        assert!(VerifyRecord::merge(&[r(s(0, 2)), r(s(1, 3))]).is_err());
        assert!(VerifyRecord::merge(&[r(s(0, 1)), r(None)]).is_err());
        let mut other = r(s(1, 2));
        other.config.model = "other".into();
        assert!(VerifyRecord::merge(&[r(s(0, 2)), other]).is_err());
        assert!(VerifyRecord::merge(&[r(s(0, 1))]).is_ok());
    }
}
