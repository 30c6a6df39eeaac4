//! Model import and execution: ONNX weights and graphs, the float reference executor, activation
//! calibration and the integer golden model the accelerator must reproduce bit for bit.

pub mod bias_correction;
pub mod calib;
pub mod elementwise;
pub mod float_exec;
pub mod float_kernels;
pub mod fold;
pub mod golden;
pub mod graph;
pub mod import;
pub mod int_kernels;
pub mod kernels;
pub mod lut;
pub mod onnx;
pub mod onnx_tensor;
pub mod qdq;
pub mod requant;
