//! A real flash image through the rust-hdl flash reader: LeNet-5 compressed on the shipped profile
//! (4 lanes), laid out by `build_flash_image`, served by the behavioural flash; every lane read as
//! one request (its header offset, `ceil(length_bits / 32)` words) must give exactly the memory words
//! the decompressor lanes take (`LaneInput::from_bytes` with 32-bit words).

use lc_format::Profile;
use lc_sim::driver::LaneInput;
use lc_sim::flash::{ReaderBench, Request};
use lc_sw::codec::{Mode, Strategy};
use lc_sw::compress::compress_model;
use lc_sw::container::CompressOptions;
use lc_sw::flash_image::{build_flash_image, parse_flash_image};

#[test]
fn lenet5_lanes_read_from_flash_are_the_lane_memory_words() {
    let model = concat!(env!("CARGO_MANIFEST_DIR"), "/../models/lenet5.onnx");
    let opts = CompressOptions {
        profile: Profile::default_profile(),
        mode: Mode::Rice,
        eps: 2,
        lanes: 4,
        strategy: Strategy::Greedy,
    };
    let container = compress_model(model.as_ref(), &opts, 8, 32, |_| {}).unwrap();
    let image = build_flash_image(&container).unwrap();
    let header = parse_flash_image(&image).unwrap();
    // The flash is a power of two larger than the image; the rest is erased (0xFF).
    let mut flash = image.clone();
    flash.resize(image.len().next_power_of_two(), 0xFF);
    let mut bench = ReaderBench::new(flash).unwrap();
    let mut words = 0;
    for (layer, entries) in container.layers.iter().zip(&header.layers) {
        for (l, (stream, entry)) in layer.lanes.iter().zip(&entries.lanes).enumerate() {
            let want: Vec<u32> =
                LaneInput::from_bytes(&stream.bytes, stream.length_bits, stream.count, 32)
                    .unwrap()
                    .words
                    .iter()
                    .map(|&w| w as u32)
                    .collect();
            let request = Request {
                addr: entry.offset as u64,
                words: (entry.length_bits as u64).div_ceil(32),
            };
            let got = bench.read(request).unwrap();
            assert_eq!(got, want, "layer {} lane {l}", layer.name);
            words += got.len();
        }
    }
    assert_eq!(bench.commands().unwrap().len(), 20, "one command per lane");
    eprintln!(
        "[flash image: {} bytes, 20 lanes, {words} words read]",
        image.len()
    );
}
