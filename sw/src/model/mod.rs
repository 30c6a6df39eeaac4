//! Model import.

pub mod onnx;
