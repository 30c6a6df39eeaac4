//! The container and the reference decoder reject every kind of damage with a typed error and
//! never panic.

use lc_sw::codec::{decode_lane, encode_lane, LayerParams, Mode, Strategy, StreamErrorKind};
use lc_sw::container::{compress_layer, CompressOptions, Container, ContainerErrorKind};
use lc_sw::quant::quantize_per_channel;
use proptest::prelude::*;

fn sample_container(mode: Mode) -> Container {
    let dims = [6usize, 3, 3, 3];
    let data: Vec<f32> = (0..162)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0)
        .collect();
    let q = quantize_per_channel(&data, &dims, 8).unwrap();
    let opts = CompressOptions {
        profile: lc_format::Profile::load("full").unwrap(),
        mode,
        eps: 1,
        lanes: 4,
        strategy: Strategy::Optimal,
    };
    Container {
        word_bits: 32,
        layers: vec![compress_layer("conv1.weight", &q, &opts).unwrap()],
    }
}

/// Re-seal a modified file with a valid CRC so the damage reaches the field checks.
fn reseal(bytes: &mut [u8]) {
    let n = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn roundtrip_through_bytes() {
    for mode in [Mode::Lines, Mode::Rice] {
        let c = sample_container(mode);
        let back = Container::from_bytes(&c.to_bytes()).unwrap();
        assert_eq!(back, c);
        assert_eq!(back.decode().unwrap(), c.decode().unwrap());
    }
}

#[test]
fn header_damage_is_named() {
    let good = sample_container(Mode::Rice).to_bytes();
    let kind = |b: &[u8]| Container::from_bytes(b).unwrap_err().kind;
    assert_eq!(kind(b""), ContainerErrorKind::Truncated);
    assert_eq!(kind(&good[..2]), ContainerErrorKind::Truncated);
    assert_eq!(
        kind(b"PK\x03\x04 not a container at all"),
        ContainerErrorKind::BadMagic
    );
    let mut v = good.clone();
    v[4] = 2;
    assert_eq!(kind(&v), ContainerErrorKind::BadVersion);
    let mut v = good.clone();
    let mid = v.len() / 2;
    v[mid] ^= 0x10;
    assert_eq!(kind(&v), ContainerErrorKind::Checksum);
    assert_eq!(kind(&good[..good.len() - 9]), ContainerErrorKind::Checksum);
    let mut v = good.clone();
    v[6] = 48; // word_bits
    reseal(&mut v);
    assert_eq!(kind(&v), ContainerErrorKind::BadField);
    let mut v = good[..40].to_vec();
    v.extend_from_slice(&[0; 4]);
    reseal(&mut v);
    assert_eq!(kind(&v), ContainerErrorKind::Truncated);
}

fn lane(mode: Mode) -> (LayerParams, Vec<i32>) {
    let q: Vec<i32> = (0..500).map(|i| ((i * 7919) % 61) - 30).collect();
    let shift = if mode == Mode::Rice { 1 } else { 0 };
    (
        LayerParams {
            bits: 8,
            mode,
            eps: 1,
            frac_bits: 4,
            len_bits: 4,
            slope_bits: 4,
            shift,
        },
        q,
    )
}

#[test]
fn stream_damage_is_named() {
    let (p, q) = lane(Mode::Rice);
    let s = encode_lane(&q, &p, Strategy::Greedy).unwrap();
    let kind =
        |bytes: &[u8], len: u64, count: u64| decode_lane(&p, bytes, len, count).unwrap_err().kind;
    assert_eq!(
        kind(&s.bytes, s.length_bits - 3, s.count),
        StreamErrorKind::Truncated
    );
    let mut padded = s.bytes.clone();
    padded.push(0);
    assert_eq!(
        kind(&padded, s.length_bits + 8, s.count),
        StreamErrorKind::TrailingBits
    );
    assert_eq!(
        kind(&s.bytes, s.length_bits, s.count + 1),
        StreamErrorKind::Truncated
    );
    assert_eq!(
        kind(&s.bytes[..s.bytes.len() / 2], s.length_bits, s.count),
        StreamErrorKind::Truncated
    );
    // A first segment longer than the lane: length field all ones, count 1.
    assert_eq!(kind(&[0xff; 8], 64, 1), StreamErrorKind::SegmentOverrun);
    // Length 1, start 0, slope 0, k = 15 > B.
    let mut bad_k = lc_sw::codec::BitWriter::new();
    bad_k.put(0, 4 + 8 + 4);
    bad_k.put(15, 4);
    bad_k.put(1, 1);
    let n = bad_k.len_bits();
    assert_eq!(
        kind(&bad_k.into_bytes(), n, 1),
        StreamErrorKind::RiceParameter
    );
    // k = 0 and an escape carrying u = 3, which has a regular code.
    let mut esc = lc_sw::codec::BitWriter::new();
    esc.put(0, 4 + 8 + 4 + 4);
    esc.put(0, lc_sw::codec::Q_ESC);
    esc.put(3, 9);
    let n = esc.len_bits();
    assert_eq!(
        kind(&esc.into_bytes(), n, 1),
        StreamErrorKind::EscapeOutOfRange
    );
}

#[test]
fn container_stream_error_carries_file_offset() {
    let c = sample_container(Mode::Lines);
    let mut broken = c.clone();
    broken.layers[0].lanes[2].length_bits -= 1;
    let e = broken.decode().unwrap_err();
    assert_eq!(e.kind, ContainerErrorKind::Stream);
    let table = c.to_bytes().len() as u64 - 4 - c.data_area().0.len() as u64;
    assert!(
        e.offset >= table,
        "offset {} inside the table ({table} bytes)",
        e.offset
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary damage to a valid file (with or without a fixed CRC) is an error or a valid
    /// container, never a panic; a container that parses also decodes or fails cleanly.
    #[test]
    fn mutations_never_panic(
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
        seal in any::<bool>(),
        rice in any::<bool>(),
    ) {
        let mut v = sample_container(if rice { Mode::Rice } else { Mode::Lines }).to_bytes();
        for (at, x) in flips {
            let i = at.index(v.len());
            v[i] ^= x;
        }
        if truncate {
            v.truncate(cut.index(v.len()).max(5));
        }
        if seal && v.len() > 8 {
            reseal(&mut v);
        }
        if let Ok(c) = Container::from_bytes(&v) {
            let _ = c.decode();
        }
    }

    /// Random bytes as a lane stream, under random parameters: decode returns, never panics.
    #[test]
    fn random_streams_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..64),
        count in 0u64..2000,
        bits in 0u8..20, rice in any::<bool>(), f in 0u8..20, lb in 0u8..14, mb in 0u8..20, r in 0u8..20,
    ) {
        let mode = if rice { Mode::Rice } else { Mode::Lines };
        let p = LayerParams { bits, mode, eps: 0, frac_bits: f, len_bits: lb, slope_bits: mb, shift: r };
        let _ = decode_lane(&p, &bytes, bytes.len() as u64 * 8, count);
    }
}
