//! Any bytes as a container: parse, then decode every lane. Must never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The CRC would reject nearly every mutation before the parser; also try the bytes with a
    // valid CRC appended so the layer table and streams are exercised.
    for bytes in [data.to_vec(), sealed(data)] {
        if let Ok(c) = lc_sw::container::Container::from_bytes(&bytes) {
            let _ = c.decode();
            let _ = lc_sw::report::inspect(&c);
        }
    }
});

fn sealed(data: &[u8]) -> Vec<u8> {
    let mut v = data.to_vec();
    v.extend_from_slice(&crc(data).to_le_bytes());
    v
}

/// CRC-32 (IEEE), bitwise: the fuzz crate avoids extra dependencies.
fn crc(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c ^= b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}
