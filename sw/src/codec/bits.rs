//! LSB-first bit packing (FORMAT.md section 3).

/// Appends fields least significant bit first.
#[derive(Clone, Debug, Default)]
pub struct BitWriter {
    bytes: Vec<u8>,
    len: u64,
}

impl BitWriter {
    /// An empty writer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append the low `n` bits of `value` (n <= 64).
    pub fn put(&mut self, value: u64, n: u32) {
        for i in 0..n {
            self.put_bit((value >> i) & 1 == 1);
        }
    }

    /// Append a single bit.
    pub fn put_bit(&mut self, bit: bool) {
        let byte = (self.len / 8) as usize;
        if byte == self.bytes.len() {
            self.bytes.push(0);
        }
        if bit {
            self.bytes[byte] |= 1 << (self.len % 8);
        }
        self.len += 1;
    }

    /// Append the low `n` bits of a signed value (two's complement).
    pub fn put_signed(&mut self, value: i64, n: u32) {
        self.put(value as u64, n);
    }

    /// Number of bits written.
    pub fn len_bits(&self) -> u64 {
        self.len
    }

    /// The packed bytes (the last byte is zero-padded).
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// Reads fields least significant bit first from a stream of `len` bits.
#[derive(Clone, Debug)]
pub struct BitReader<'a> {
    bytes: &'a [u8],
    len: u64,
    pos: u64,
}

impl<'a> BitReader<'a> {
    /// A reader over the first `len_bits` bits of `bytes` (clipped to the bytes present).
    pub fn new(bytes: &'a [u8], len_bits: u64) -> Self {
        let len = len_bits.min(bytes.len() as u64 * 8);
        Self { bytes, len, pos: 0 }
    }

    /// Current bit position.
    pub fn pos(&self) -> u64 {
        self.pos
    }

    /// Bits left before the end of the stream.
    pub fn remaining(&self) -> u64 {
        self.len - self.pos
    }

    /// Read `n` bits (n <= 64) as an unsigned value, or `None` if fewer than `n` remain.
    pub fn get(&mut self, n: u32) -> Option<u64> {
        if (n as u64) > self.remaining() {
            return None;
        }
        let mut value = 0u64;
        let mut done = 0u32;
        while done < n {
            let byte = self.bytes[(self.pos / 8) as usize] as u64;
            let offset = (self.pos % 8) as u32;
            let take = (8 - offset).min(n - done);
            let chunk = (byte >> offset) & ((1u64 << take) - 1);
            value |= chunk << done;
            done += take;
            self.pos += take as u64;
        }
        Some(value)
    }

    /// Read `n` bits as a two's complement value.
    pub fn get_signed(&mut self, n: u32) -> Option<i64> {
        let v = self.get(n)?;
        if n == 0 {
            return Some(0);
        }
        let shift = 64 - n;
        Some(((v << shift) as i64) >> shift)
    }

    /// Read one bit.
    pub fn get_bit(&mut self) -> Option<bool> {
        self.get(1).map(|b| b == 1)
    }
}
