//! LineCompress software reference: per-channel quantization, the LineCompress v1 codec and
//! container (specified in `docs/FORMAT.md`), and model import.
//!
//! The reference decoder [`codec::decode_lane`] is the single source of truth for the hardware.

pub mod codec;
pub mod compress;
pub mod container;
pub mod data;
pub mod eval;
pub mod flash_image;
pub mod model;
pub mod quant;
pub mod report;
