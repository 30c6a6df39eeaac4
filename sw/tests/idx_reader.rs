//! IDX reader on small generated files, plain and gzip-compressed.

use std::io::Write;

use lc_sw::data::fashion::{self, Split};
use lc_sw::data::idx::{self, IdxArray};

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
    let pre = lc_sw::model::graph::Preprocess {
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
