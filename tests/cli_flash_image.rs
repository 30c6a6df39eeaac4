//! `linecompress flash-image` on a real container: the image parses back, every lane stream lies
//! at its offset, word-aligned, with the container's bits, length, count and layer parameters;
//! a corrupt container and an image beyond 16 MiB fail with one clear line.

mod common;

use common::{assert_clean_failure, cli};
use lc_sw::codec::LaneStream;
use lc_sw::container::Container;
use lc_sw::flash_image::parse_flash_image;

fn path(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn lenet5_image_holds_every_lane_stream_at_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/models/lenet5.onnx");
    for word_bits in ["32", "64"] {
        let lcw = dir.path().join(format!("lenet5_{word_bits}.lcw"));
        let bin = dir.path().join(format!("lenet5_{word_bits}.bin"));
        let out = cli(&[
            "compress",
            model,
            "-o",
            path(&lcw),
            "--lanes",
            "4",
            "--word-bits",
            word_bits,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = cli(&["flash-image", path(&lcw), "-o", path(&bin)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let container = Container::from_bytes(&std::fs::read(&lcw).unwrap()).unwrap();
        let image = std::fs::read(&bin).unwrap();
        let parsed = parse_flash_image(&image).unwrap();
        assert_eq!(parsed.word_bits, container.word_bits);
        assert_eq!(parsed.bytes as usize, image.len());
        assert_eq!(parsed.layers.len(), container.layers.len());
        let word = container.word_bits as u32 / 8;
        let mut lanes = 0;
        for (got, want) in parsed.layers.iter().zip(&container.layers) {
            let params = lc_sw::codec::LayerParams {
                eps: 0,
                ..want.params
            };
            assert_eq!(got.params, params, "layer {}", want.name);
            assert_eq!(got.lanes.len(), want.lanes.len(), "layer {}", want.name);
            for (l, (entry, stream)) in got.lanes.iter().zip(&want.lanes).enumerate() {
                assert_eq!(entry.offset % word, 0, "layer {} lane {l}", want.name);
                let found = LaneStream {
                    bytes: parsed.lane_bytes(&image, entry).to_vec(),
                    length_bits: entry.length_bits as u64,
                    count: entry.count as u64,
                };
                assert_eq!(&found, stream, "layer {} lane {l}", want.name);
                lanes += 1;
            }
        }
        assert_eq!(lanes, 5 * 4, "LeNet-5: 5 layers of 4 lanes");
    }
}

#[test]
fn corrupt_or_oversized_containers_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let corrupt = dir.path().join("corrupt.lcw");
    std::fs::write(&corrupt, b"LCW1 not really").unwrap();
    let bin = dir.path().join("w.bin");
    assert_clean_failure(
        &cli(&["flash-image", path(&corrupt), "-o", path(&bin)]),
        "corrupt.lcw",
    );

    // One lane of 17 MiB (streams are not decoded to lay out an image).
    let bytes = 17 << 20;
    let big = Container {
        word_bits: 32,
        layers: vec![lc_sw::container::Layer {
            name: "big".into(),
            dims: vec![1, 1000],
            params: lc_sw::codec::LayerParams {
                bits: 8,
                mode: lc_sw::codec::Mode::Rice,
                eps: 0,
                frac_bits: 4,
                len_bits: 6,
                slope_bits: 0,
                shift: 0,
            },
            order: 0,
            max_error: 0,
            scales: vec![1.0],
            lanes: vec![LaneStream {
                bytes: vec![0; bytes],
                length_bits: bytes as u64 * 8,
                count: 1000,
            }],
        }],
    };
    let lcw = dir.path().join("big.lcw");
    std::fs::write(&lcw, big.to_bytes()).unwrap();
    assert_clean_failure(
        &cli(&["flash-image", path(&lcw), "-o", path(&bin)]),
        "16 MiB",
    );
    assert!(!bin.exists(), "no image written");
}
