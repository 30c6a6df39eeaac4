//! Reader for the IDX format (MNIST, Fashion-MNIST): a big-endian header
//! `0x00 0x00 type rank`, `rank` u32 dimensions, then the elements. Gzip-compressed files
//! (magic `1f 8b`) are decompressed transparently. Only unsigned bytes (type `0x08`) are supported.

use std::io::Read;
use std::path::Path;

use thiserror::Error;

/// Errors reading an IDX file.
#[derive(Debug, Error)]
pub enum IdxError {
    /// The file could not be opened or decompressed.
    #[error("{path}: {source}")]
    Io {
        /// The path (or "<memory>").
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The header or the size is wrong.
    #[error("{path}: {reason}")]
    Format {
        /// The path (or "<memory>").
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// An IDX array of unsigned bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Elements in row-major order.
    pub data: Vec<u8>,
}

/// Parse IDX bytes (optionally gzip-compressed). `what` names the source in errors.
pub fn parse(bytes: &[u8], what: &str) -> Result<IdxArray, IdxError> {
    let fmt = |reason: String| IdxError::Format {
        path: what.to_string(),
        reason,
    };
    let raw: Vec<u8>;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut out)
            .map_err(|source| IdxError::Io {
                path: what.to_string(),
                source,
            })?;
        raw = out;
        &raw[..]
    } else {
        bytes
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(fmt("not an IDX file (bad magic)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(fmt(format!(
            "element type 0x{:02x} is not supported (only 0x08, unsigned byte)",
            bytes[2]
        )));
    }
    let rank = bytes[3] as usize;
    if rank == 0 {
        return Err(fmt("rank 0".into()));
    }
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(fmt(format!(
            "truncated header ({} bytes for rank {rank})",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let n = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| fmt(format!("dimensions {dims:?} overflow")))?;
    let body = &bytes[header..];
    if body.len() != n {
        return Err(fmt(format!(
            "dimensions {dims:?} need {n} bytes, file has {}",
            body.len()
        )));
    }
    Ok(IdxArray {
        dims,
        data: body.to_vec(),
    })
}

/// Read an IDX file (plain or `.gz`).
pub fn read(path: impl AsRef<Path>) -> Result<IdxArray, IdxError> {
    let p = path.as_ref();
    let what = p.display().to_string();
    let bytes = std::fs::read(p).map_err(|source| IdxError::Io {
        path: what.clone(),
        source,
    })?;
    parse(&bytes, &what)
}

/// Serialize an array as (uncompressed) IDX bytes.
pub fn to_bytes(a: &IdxArray) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, a.dims.len() as u8];
    for &d in &a.dims {
        out.extend_from_slice(&(d as u32).to_be_bytes());
    }
    out.extend_from_slice(&a.data);
    out
}

#[cfg(test)]
mod tests {
    //! The IDX reader on small generated files, plain and gzip-compressed, and on the installed
    //! Fashion-MNIST when present.

    use std::io::Write;

    use super::super::fashion::{self, Split};
    use super::{self as idx, IdxArray};
    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(bytes).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn round_trip_plain_and_gzip() {
        let a = IdxArray {
            dims: vec![3, 2, 4],
            data: (0..24).map(|i| (i * 11 % 256) as u8).collect(),
        };
        let bytes = idx::to_bytes(&a);
        assert_eq!(&bytes[..4], &[0, 0, 8, 3]);
        assert_eq!(idx::parse(&bytes, "mem").unwrap(), a);
        assert_eq!(idx::parse(&gz(&bytes), "mem").unwrap(), a);
    }

    #[test]
    fn malformed_files_are_errors() {
        let a = IdxArray {
            dims: vec![2, 2],
            data: vec![1, 2, 3, 4],
        };
        let good = idx::to_bytes(&a);
        assert!(
            idx::parse(&good[..good.len() - 1], "m").is_err(),
            "truncated body"
        );
        assert!(idx::parse(&good[..6], "m").is_err(), "truncated header");
        let mut bad = good.clone();
        bad[2] = 0x0d; // float elements
        assert!(idx::parse(&bad, "m")
            .unwrap_err()
            .to_string()
            .contains("0x0d"));
        bad = good.clone();
        bad[0] = 1;
        assert!(idx::parse(&bad, "m").is_err());
        assert!(idx::parse(&gz(&good)[..10], "m").is_err(), "truncated gzip");
        assert!(idx::parse(&[], "m").is_err());
    }

    #[test]
    fn dataset_from_a_directory() {
        let dir = std::env::temp_dir().join(format!("lc_idx_test_{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let images = IdxArray {
            dims: vec![3, 2, 2],
            data: (0..12).collect(),
        };
        let labels = IdxArray {
            dims: vec![3],
            data: vec![7, 1, 9],
        };
        std::fs::write(
            dir.join("t10k-images-idx3-ubyte.gz"),
            gz(&idx::to_bytes(&images)),
        )
        .unwrap();
        std::fs::write(dir.join("t10k-labels-idx1-ubyte"), idx::to_bytes(&labels)).unwrap();
        let d = fashion::load(&dir, Split::Test).unwrap();
        assert_eq!((d.len(), d.rows, d.cols), (3, 2, 2));
        assert_eq!(d.image(2), &[8, 9, 10, 11]);
        assert_eq!(d.labels, vec![7, 1, 9]);
        let pre = crate::model::graph::Preprocess {
            mean: 128.0,
            std: 128.0,
        };
        assert_eq!(d.tensor(1, &pre).data[0], (4.0 - 128.0) / 128.0);
        // Labels that do not match the image count.
        std::fs::write(
            dir.join("t10k-labels-idx1-ubyte"),
            idx::to_bytes(&IdxArray {
                dims: vec![2],
                data: vec![0, 1],
            }),
        )
        .unwrap();
        assert!(fashion::load(&dir, Split::Test).is_err());
        assert!(fashion::load(&dir, Split::Train).is_err(), "missing files");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn installed_fashion_mnist_if_present() {
        let dir = std::path::Path::new(fashion::DEFAULT_DIR);
        if !dir.exists() {
            eprintln!("skipped: {} not installed", dir.display());
            return;
        }
        let d = fashion::load(dir, Split::Test).unwrap();
        assert_eq!((d.len(), d.rows, d.cols), (10_000, 28, 28));
        assert!(d.labels.iter().all(|&l| l < 10));
        let mut counts = [0usize; 10];
        d.labels.iter().for_each(|&l| counts[l as usize] += 1);
        assert!(
            counts.iter().all(|&c| c == 1000),
            "Fashion-MNIST test labels are balanced: {counts:?}"
        );
    }
}
