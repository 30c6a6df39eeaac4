//! The weights of a plan in a QSPI flash: the flash image `linecompress flash-image` writes for
//! the plan's container (sw/src/flash_image.rs), in the behavioural flash model, and the read
//! request of each lane stream.
//!
//! For FP32 storage (the baseline, [`WeightStore::Fp32`]) every byte of the image occupies a
//! 32-bit flash word, in its low byte: the flash delivers 32 bits per weight of the raw INT8
//! streams, and the memory interface of the accelerator (`flash_narrow`) keeps one byte of each.

use super::job::LaneStreamRef;
use super::plan::{NetworkPlan, WeightStore};
use crate::flash::{QspiFlash, Request};
use anyhow::{bail, Result};
use lc_sw::flash_image::{build_flash_image, parse_flash_image};

/// Bytes of a flash word as the reader delivers it.
const FLASH_WORD_BYTES: u64 = 4;

/// The flash holding a plan's weights.
#[derive(Clone, Debug)]
pub struct FlashStore {
    /// The flash model (its state follows the pins of the device it is wired to).
    pub flash: QspiFlash,
    /// Flash byte address of word 0 of the plan's data area.
    base: u64,
    /// Bytes of a lane memory word.
    word_bytes: u64,
    /// Flash bytes per image byte: 4 for FP32 storage, else 1.
    scale: u64,
}

impl FlashStore {
    /// The flash image of `plan`'s container in a flash model, for the plan's weight store.
    pub fn new(plan: &NetworkPlan) -> Result<Self> {
        let image = build_flash_image(&plan.container)?;
        let parsed = parse_flash_image(&image)?;
        let word_bytes = plan.word_bits as u64 / 8;
        // The image holds the streams in data area order, after its header: check that every
        // lane sits where the plan's word offsets say.
        let first = parsed.layers.first().and_then(|l| l.lanes.first());
        let base = first.map_or(0, |l| l.offset as u64);
        for (layer, (flash, plan_lanes)) in parsed.layers.iter().zip(&plan.streams).enumerate() {
            for (lane, (f, p)) in flash.lanes.iter().zip(plan_lanes).enumerate() {
                if f.offset as u64 != base + p.first_word as u64 * word_bytes {
                    bail!(
                        "flash image layer {layer} lane {lane} at byte {}, expected {}",
                        f.offset,
                        base + p.first_word as u64 * word_bytes
                    );
                }
            }
        }
        let scale = plan.store.traffic_scale() as u64;
        let bytes: Vec<u8> = if plan.store == WeightStore::Fp32 {
            image.iter().flat_map(|&b| [b, 0, 0, 0]).collect()
        } else {
            image
        };
        let mut bytes = bytes;
        bytes.resize(bytes.len().next_power_of_two(), 0xFF);
        Ok(FlashStore {
            flash: QspiFlash::new(bytes)?,
            base,
            word_bytes,
            scale,
        })
    }

    /// The read request of a lane stream: its flash byte address and its flash words.
    pub fn request(&self, lane: &LaneStreamRef) -> Request {
        let bytes = lane.words() as u64 * self.word_bytes * self.scale;
        Request {
            addr: (self.base + lane.first_word as u64 * self.word_bytes) * self.scale,
            words: bytes / FLASH_WORD_BYTES,
        }
    }

    /// One image byte per flash word (FP32 storage).
    pub fn narrow(&self) -> bool {
        self.scale > 1
    }
}
