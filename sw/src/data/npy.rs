//! Reader for NumPy `.npy` files (format versions 1-3, little-endian `f8`, `f4` or `u1`
//! elements, C order), e.g. scikit-image's `lfw_subset.npy`.

use std::path::Path;

use super::idx::IdxError;

/// An n-dimensional array read from `.npy`, converted to f64.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Shape.
    pub shape: Vec<usize>,
    /// Elements in C (row-major) order.
    pub data: Vec<f64>,
}

fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[start..].trim_start().strip_prefix(':')?.trim_start();
    Some(rest)
}

/// Parse `.npy` bytes; `what` names the source in errors.
pub fn parse(bytes: &[u8], what: &str) -> Result<NpyArray, IdxError> {
    let fmt = |reason: String| IdxError::Format {
        path: what.to_string(),
        reason,
    };
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(fmt("not a .npy file (bad magic)".into()));
    }
    let (hlen, hstart): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        v => return Err(fmt(format!("unsupported .npy version {v}"))),
    };
    let body_start = hstart
        .checked_add(hlen)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| fmt("truncated header".into()))?;
    let header = std::str::from_utf8(&bytes[hstart..body_start])
        .map_err(|_| fmt("header is not text".into()))?;
    let descr = header_field(header, "descr").ok_or_else(|| fmt("no descr".into()))?;
    let descr = descr
        .trim_start_matches('\'')
        .split('\'')
        .next()
        .unwrap_or("");
    if header_field(header, "fortran_order").is_some_and(|v| v.starts_with("True")) {
        return Err(fmt("Fortran order is not supported".into()));
    }
    let shape_txt = header_field(header, "shape").ok_or_else(|| fmt("no shape".into()))?;
    let inner = shape_txt
        .strip_prefix('(')
        .and_then(|s| s.split(')').next())
        .ok_or_else(|| fmt("bad shape".into()))?;
    let shape: Vec<usize> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| fmt(format!("bad dimension '{s}'")))
        })
        .collect::<Result<_, _>>()?;
    let n = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| fmt("shape overflows".into()))?;
    let body = &bytes[body_start..];
    let (size, conv): (usize, fn(&[u8]) -> f64) = match descr {
        "<f8" => (8, |c| {
            f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
        }),
        "<f4" => (4, |c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64),
        "|u1" => (1, |c| c[0] as f64),
        d => {
            return Err(fmt(format!(
                "element type '{d}' is not supported (<f8, <f4, |u1)"
            )))
        }
    };
    if body.len() != n * size {
        return Err(fmt(format!(
            "shape {shape:?} needs {} bytes, file has {}",
            n * size,
            body.len()
        )));
    }
    Ok(NpyArray {
        shape,
        data: body.chunks_exact(size).map(conv).collect(),
    })
}

/// Read a `.npy` file.
pub fn read(path: impl AsRef<Path>) -> Result<NpyArray, IdxError> {
    let p = path.as_ref();
    let what = p.display().to_string();
    let bytes = std::fs::read(p).map_err(|source| IdxError::Io {
        path: what.clone(),
        source,
    })?;
    parse(&bytes, &what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend_from_slice(&(h.len() as u16).to_le_bytes());
        out.extend_from_slice(h.as_bytes());
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn reads_f8_f4_u1() {
        let vals = [0.5f64, -1.25, 3.0, 0.0, 7.5, 0.0625];
        let body: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
        let a = parse(&npy("<f8", "(2, 3)", &body), "m").unwrap();
        assert_eq!(
            (a.shape.as_slice(), a.data.as_slice()),
            (&[2usize, 3][..], &vals[..])
        );
        let body4: Vec<u8> = vals
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect();
        assert_eq!(
            parse(&npy("<f4", "(6,)", &body4), "m").unwrap().data,
            vals.to_vec()
        );
        assert_eq!(
            parse(&npy("|u1", "(3,)", &[1, 2, 255]), "m").unwrap().data,
            vec![1.0, 2.0, 255.0]
        );
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse(&npy("<f8", "(2, 3)", &[0; 47]), "m").is_err());
        assert!(parse(&npy(">f8", "(1,)", &[0; 8]), "m").is_err());
        assert!(parse(&npy("<f8", "(x,)", &[0; 8]), "m").is_err());
        assert!(parse(b"\x93NUMPY\x01\x00\xff\x00{", "m").is_err());
        assert!(parse(b"PK\x03\x04", "m").is_err());
    }
}
