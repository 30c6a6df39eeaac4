//! The LineCompress v1 codec: bit I/O, segment reconstruction, the reference decoder and the
//! encoders (greedy and optimal segmentation for both residual modes).

mod bits;
mod decode;
mod encode;
mod segment;

pub use bits::{BitReader, BitWriter};
pub use decode::{decode_lane, decode_lane_segments, StreamError, StreamErrorKind};
pub use encode::{
    choose_params, choose_params_for, encode_lane, plan_lane, size, EncodeError, LaneStream,
    Strategy,
};
pub use lc_format::{LayerParams, Mode, K_BITS, MAX_LEN_BITS, Q_ESC};
pub use segment::{reconstruct, unzigzag, zigzag, Segment};
