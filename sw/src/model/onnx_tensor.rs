//! The one decoder of ONNX `TensorProto` values, shared by the weight reader ([`super::onnx`],
//! [`super::qdq`]) and the graph importer ([`super::import`]): shape and size checks, `raw_data`
//! or the typed fields, external data refused; and the weight layout rule (which stored matrices
//! are input channel first) with the transposition that puts the output channel first.

use onnx_protobuf::{NodeProto, TensorProto};

use super::onnx::ModelError;

/// ONNX `TensorProto.DataType.FLOAT`.
pub const FLOAT: i32 = 1;
/// ONNX `TensorProto.DataType.UINT8`.
pub const UINT8: i32 = 2;
/// ONNX `TensorProto.DataType.INT8`.
pub const INT8: i32 = 3;
/// ONNX `TensorProto.DataType.INT32`.
pub const INT32: i32 = 6;
/// ONNX `TensorProto.DataType.INT64`.
pub const INT64: i32 = 7;
/// ONNX `TensorProto.DataType.DOUBLE`.
pub const DOUBLE: i32 = 11;

/// Values of a decoded tensor, in the family of its element type.
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `FLOAT`.
    F32(Vec<f32>),
    /// `DOUBLE`.
    F64(Vec<f64>),
    /// `INT8`, `UINT8`, `INT32`, `INT64`.
    Int(Vec<i64>),
}

/// A decoded tensor: shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// Shape (empty for a scalar).
    pub dims: Vec<usize>,
    /// Values, as many as the shape holds.
    pub values: Values,
}

impl Decoded {
    /// The values as f32 (integers and doubles converted).
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.values {
            Values::F32(v) => v.clone(),
            Values::F64(v) => v.iter().map(|&x| x as f32).collect(),
            Values::Int(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }

    /// The values as i64 (floats truncated towards zero).
    pub fn to_i64(&self) -> Vec<i64> {
        match &self.values {
            Values::F32(v) => v.iter().map(|&x| x as i64).collect(),
            Values::F64(v) => v.iter().map(|&x| x as i64).collect(),
            Values::Int(v) => v.clone(),
        }
    }
}

/// Little-endian values of `N` bytes each.
fn le<const N: usize, T>(raw: &[u8], from: fn([u8; N]) -> T) -> Vec<T> {
    raw.chunks_exact(N)
        .map(|c| {
            let mut bytes = [0u8; N];
            bytes.copy_from_slice(c);
            from(bytes)
        })
        .collect()
}

/// Widen integers to i64.
fn widen<T: Copy + Into<i64>>(v: &[T]) -> Vec<i64> {
    v.iter().map(|&x| x.into()).collect()
}

/// Decode a tensor of element type float, double, int8, uint8, int32 or int64, from `raw_data` or
/// the typed field, checking that the values fill the shape exactly.
pub fn decode(t: &TensorProto) -> Result<Decoded, ModelError> {
    let bad = |detail: String| ModelError::Tensor {
        name: t.name.clone(),
        detail,
    };
    if !t.external_data.is_empty() {
        return Err(bad("external data files are not supported".into()));
    }
    let dims: Vec<usize> = t
        .dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| bad(format!("negative dimension {d}"))))
        .collect::<Result<_, _>>()?;
    let count = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| bad("shape overflows".into()))?;
    let width = match t.data_type {
        UINT8 | INT8 => 1,
        FLOAT | INT32 => 4,
        DOUBLE | INT64 => 8,
        other => return Err(bad(format!("data type {other} is not supported"))),
    };
    let raw = (!t.raw_data.is_empty()).then_some(t.raw_data.as_slice());
    if let Some(r) = raw {
        if Some(r.len()) != count.checked_mul(width) {
            return Err(bad(format!(
                "shape {dims:?} needs {count} values of {width} bytes, raw data has {} bytes",
                r.len()
            )));
        }
    }
    let values = match (t.data_type, raw) {
        (FLOAT, Some(r)) => Values::F32(le(r, f32::from_le_bytes)),
        (FLOAT, None) => Values::F32(t.float_data.clone()),
        (DOUBLE, Some(r)) => Values::F64(le(r, f64::from_le_bytes)),
        (DOUBLE, None) => Values::F64(t.double_data.clone()),
        (INT64, Some(r)) => Values::Int(le(r, i64::from_le_bytes)),
        (INT64, None) => Values::Int(t.int64_data.clone()),
        (INT32, Some(r)) => Values::Int(widen(&le(r, i32::from_le_bytes))),
        (INT8, Some(r)) => Values::Int(r.iter().map(|&b| b as i8 as i64).collect()),
        (UINT8, Some(r)) => Values::Int(widen(r)),
        // INT32, INT8 and UINT8 without raw data are stored in int32_data.
        (_, None) => Values::Int(widen(&t.int32_data)),
        (other, Some(_)) => return Err(bad(format!("data type {other} is not supported"))),
    };
    let found = match &values {
        Values::F32(v) => v.len(),
        Values::F64(v) => v.len(),
        Values::Int(v) => v.len(),
    };
    if found != count {
        return Err(bad(format!(
            "shape {dims:?} needs {count} values, found {found}"
        )));
    }
    Ok(Decoded { dims, values })
}

/// Values of an f32 tensor with its shape.
pub fn tensor_f32(t: &TensorProto) -> Result<(Vec<usize>, Vec<f32>), ModelError> {
    if t.data_type != FLOAT {
        return Err(ModelError::Tensor {
            name: t.name.clone(),
            detail: format!("data type {} is not f32", t.data_type),
        });
    }
    let d = decode(t)?;
    let values = d.to_f32();
    Ok((d.dims, values))
}

/// Values of an int8 / uint8 tensor with its shape.
pub fn tensor_int8(t: &TensorProto) -> Result<(Vec<usize>, Vec<i32>), ModelError> {
    if !matches!(t.data_type, INT8 | UINT8) {
        return Err(ModelError::Tensor {
            name: t.name.clone(),
            detail: format!("data type {} is not int8 or uint8", t.data_type),
        });
    }
    let d = decode(t)?;
    // Both types fit i32; int32_data holding larger values is clamped to the i32 range.
    let values = d
        .to_i64()
        .into_iter()
        .map(|v| v.clamp(i32::MIN.into(), i32::MAX.into()) as i32)
        .collect();
    Ok((d.dims, values))
}

/// Is the weight input (input 1) of this node stored `[K, N]`, input channel first? True for
/// `MatMul` / `MatMulInteger` and for `Gemm` without `transB`.
pub fn weight_input_major(node: &NodeProto) -> bool {
    match node.op_type.as_str() {
        "MatMul" | "MatMulInteger" => true,
        "Gemm" => !node
            .attribute
            .iter()
            .any(|a| a.name == "transB" && a.i != 0),
        _ => false,
    }
}

/// Transpose a row-major `[rows, cols]` matrix.
pub fn transpose<T: Copy>(data: &[T], rows: usize, cols: usize) -> Vec<T> {
    (0..cols)
        .flat_map(|c| (0..rows).map(move |r| data[r * cols + c]))
        .collect()
}

/// The weight of `node` with the output channel first: a 2-D weight stored input channel first
/// (see [`weight_input_major`]) is transposed, and the flag says so.
pub fn output_channel_first(
    node: &NodeProto,
    mut dims: Vec<usize>,
    data: Vec<f32>,
) -> (Vec<usize>, Vec<f32>, bool) {
    if weight_input_major(node) && dims.len() == 2 {
        let data = transpose(&data, dims[0], dims[1]);
        dims.swap(0, 1);
        (dims, data, true)
    } else {
        (dims, data, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(data_type: i32, dims: &[i64], raw: Vec<u8>) -> TensorProto {
        TensorProto {
            name: "t".into(),
            data_type,
            dims: dims.to_vec(),
            raw_data: raw,
            ..Default::default()
        }
    }

    #[test]
    fn raw_and_typed_fields_decode_alike() {
        let raw = tensor(
            INT64,
            &[2],
            [-3i64, 7].iter().flat_map(|v| v.to_le_bytes()).collect(),
        );
        let mut typed = tensor(INT64, &[2], vec![]);
        typed.int64_data = vec![-3, 7];
        assert_eq!(decode(&raw).unwrap(), decode(&typed).unwrap());
        assert_eq!(decode(&raw).unwrap().to_f32(), vec![-3.0, 7.0]);
        let int8 = tensor(INT8, &[3], vec![0xff, 0x80, 5]);
        assert_eq!(tensor_int8(&int8).unwrap().1, vec![-1, -128, 5]);
        let uint8 = tensor(UINT8, &[1, 2], vec![0xff, 1]);
        assert_eq!(tensor_int8(&uint8).unwrap(), (vec![1, 2], vec![255, 1]));
    }

    #[test]
    fn bad_tensors_are_errors_naming_the_tensor() {
        let short = tensor(FLOAT, &[2, 2], vec![0; 15]);
        let huge = tensor(FLOAT, &[i64::MAX, 4], vec![]);
        let negative = tensor(FLOAT, &[-1], vec![]);
        let string = tensor(8, &[1], vec![]);
        let mut external = tensor(FLOAT, &[1], vec![]);
        external.external_data.push(Default::default());
        for t in [short, huge, negative, string, external] {
            let e = decode(&t).unwrap_err().to_string();
            assert!(e.starts_with("tensor 't'"), "{e}");
        }
        let e = tensor_f32(&tensor(INT8, &[1], vec![1])).unwrap_err();
        assert!(e.to_string().contains("not f32"), "{e}");
    }

    #[test]
    fn input_major_weights_are_transposed() {
        let node = |op: &str| NodeProto {
            op_type: op.into(),
            ..Default::default()
        };
        let m = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // [2, 3]
        let (dims, data, t) = output_channel_first(&node("MatMul"), vec![2, 3], m.clone());
        assert_eq!(
            (dims, data, t),
            (vec![3, 2], vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0], true)
        );
        let (dims, data, t) = output_channel_first(&node("Conv"), vec![2, 3], m.clone());
        assert_eq!((dims, data, t), (vec![2, 3], m, false));
    }
}
