//! The accelerator datapath under Verilator: a host driver that runs whole CNNs layer by layer
//! against the golden model, a DRAM model for the weight streams, and the counts and energy of a
//! run.
//!
//! * [`device::AccelDevice`]: the Verilator model with host-side access.
//! * [`dram`]: bandwidth / latency model of the weight memory.
//! * [`flash_store`]: the weights in a QSPI flash for the flash top.
//! * [`job`]: layer geometry and register values.
//! * [`plan`]: a CNN's golden model and weight streams (compressed or raw INT8).
//! * [`network`]: running an image, layer by layer, with bit-exact comparison.
//! * [`energy`]: the energy model and its configuration.
//! * [`verify`]: many images, both weight stores, totals and mismatches.
//! * [`shard`]: a shard of a run's images and the merge of the shards' records.
//! * [`sweep`]: cycles against weight memory bandwidth.
//! * [`report`]: the study table and the sweep as Markdown and HTML.

pub mod device;
pub mod dram;
pub mod energy;
pub mod flash_store;
pub mod job;
pub mod network;
pub mod plan;
pub mod report;
pub mod shard;
pub mod sweep;
pub mod verify;
