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
        if n == 0 {
            return;
        }
        let value = if n < 64 {
            value & ((1u64 << n) - 1)
        } else {
            value
        };
        let used = (self.len % 8) as u32;
        if used > 0 {
            // Fill the partial last byte first.
            let last = self.bytes.len() - 1;
            self.bytes[last] |= (value << used) as u8;
        }
        let room = if used > 0 { 8 - used } else { 0 };
        if n > room {
            // The rest starts on a byte boundary: whole bytes, little-endian.
            let rest = value >> room;
            let new_bytes = (n - room).div_ceil(8) as usize;
            self.bytes
                .extend_from_slice(&rest.to_le_bytes()[..new_bytes]);
        }
        self.len += n as u64;
    }

    /// Append a single bit.
    pub fn put_bit(&mut self, bit: bool) {
        self.put(bit as u64, 1);
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

    /// The next bits of the stream, LSB first, from one little-endian word load: at least the
    /// low 56 bits are stream bits (or zeros past the last byte). Bits past the stream length
    /// are unspecified: callers check [`Self::remaining`] before consuming them.
    #[inline]
    pub fn peek(&self) -> u64 {
        let byte = (self.pos / 8) as usize;
        let word = match self.bytes.get(byte..byte + 8) {
            Some(b) => u64::from_le_bytes(b.try_into().expect("8 bytes")),
            None => {
                let mut b = [0u8; 8];
                let tail = self.bytes.get(byte..).unwrap_or(&[]);
                b[..tail.len()].copy_from_slice(tail);
                u64::from_le_bytes(b)
            }
        };
        word >> (self.pos % 8)
    }

    /// Advance by `n` bits (the caller checked that they remain).
    #[inline]
    pub fn skip(&mut self, n: u32) {
        debug_assert!(n as u64 <= self.remaining());
        self.pos += n as u64;
    }

    /// Read `n` bits (n <= 64) as an unsigned value, or `None` if fewer than `n` remain.
    #[inline]
    pub fn get(&mut self, n: u32) -> Option<u64> {
        if (n as u64) > self.remaining() {
            return None;
        }
        if n <= 56 {
            let v = self.peek() & ((1u64 << n) - 1);
            self.pos += n as u64;
            return Some(v);
        }
        let low = self.get(32)?;
        let high = self.get(n - 32)?;
        Some(low | (high << 32))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_of_every_width_round_trip_across_word_boundaries() {
        let mut s = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let fields: Vec<(u64, u32)> = (0..2000)
            .map(|i| {
                let n = (i % 65) as u32;
                let mask = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
                (next() & mask, n)
            })
            .collect();
        let mut w = BitWriter::new();
        for &(v, n) in &fields {
            w.put(v, n);
        }
        let len = w.len_bits();
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes, len);
        for &(v, n) in &fields {
            assert_eq!(r.get(n), Some(v), "width {n} at bit {}", r.pos());
        }
        assert_eq!(r.remaining(), 0);
        assert_eq!(r.get(1), None);
        // A field longer than what remains is refused without moving.
        let mut r = BitReader::new(&bytes, 10);
        assert_eq!(r.get(11), None);
        assert_eq!(r.pos(), 0);
    }
}
