//! Declared design points of the accelerator: the lane counts and the activation memory that a
//! target gets. The generic datapath takes any P and D (`--lanes`, `--mac-lanes`) with its
//! activations in block RAM; the iCE40 UP5K board gets [`UP5K`].

use super::act_buf::ActMemory;
use super::emit::{sizes, AccelSizes};
use super::split::AccelLanes;
use anyhow::Result;

/// A design point: P MAC lanes, D decompressor lanes and the memory of the activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccelPoint {
    /// Short name (file names, reports).
    pub name: &'static str,
    /// MAC lanes P.
    pub mac_lanes: usize,
    /// Decompressor lanes D.
    pub dec_lanes: usize,
    /// Where the activations live.
    pub memory: ActMemory,
}

/// The activation memory of the build with `lanes`: the UP5K build for its lane counts, block
/// RAM for every other.
pub fn memory_for(lanes: AccelLanes) -> ActMemory {
    match UP5K.lanes() {
        Ok(up5k) if up5k == lanes => UP5K.memory,
        _ => ActMemory::Dual,
    }
}

/// The iCE40 UP5K: six MAC lanes on six of the eight SB_MAC16 (the requantizer's two 16 x 16
/// multiplies take the other two), one decompressor lane fed by the QSPI flash reader (the
/// flash delivers about 2 bits per clock, less than one lane decodes), activations in two
/// SB_SPRAM256KA blocks (64 KiB), per lane two weight banks of 1,024 int8 weights (4 EBR; the
/// largest K of the shipped models is 864), so 24 EBR for weights, and the parameters of 256
/// channels (5 EBR).
pub const UP5K: AccelPoint = AccelPoint {
    name: "up5k",
    mac_lanes: 6,
    dec_lanes: 1,
    memory: ActMemory::Spram,
};

impl AccelPoint {
    /// The lane counts.
    pub fn lanes(&self) -> Result<AccelLanes> {
        AccelLanes::new(self.mac_lanes, self.dec_lanes)
    }

    /// Buffer sizes.
    pub fn sizes(&self) -> AccelSizes {
        sizes(self.memory)
    }
}
