//! Behavioural model of a serial NOR flash that answers "Fast Read Quad Output" (0x6B), cycle
//! by cycle from the pins a host drives: CS# low starts a command, the command byte and a 24-bit
//! address arrive MSB first on IO0 at rising SCK edges, 8 dummy clocks follow, then the flash
//! drives one nibble per clock on IO3..IO0 (each byte high nibble first, consecutive bytes,
//! wrapping at the end of the array) after every falling edge, for as long as the host clocks.
//! CS# high ends the command and releases the lines. Any other command, IO0 left floating while
//! the host should drive it, or the host driving a line the flash drives is an error.
//! [`ReaderBench`] wires the rust-hdl flash reader ([`QspiReader`]) to it, one clock at a time.

use lc_hw::qspi::{QspiReader, ADDR_BITS, PREAMBLE_CLOCKS, QUAD_OUTPUT_READ};
use rust_hdl::prelude::*;

/// Largest array the 24-bit address reaches.
pub const MAX_FLASH_BYTES: usize = 1 << ADDR_BITS;

/// The host side of the bus in one clock cycle.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlashPins {
    /// Chip select, active low.
    pub cs_n: bool,
    /// Serial clock.
    pub sck: bool,
    /// Values the host drives on IO3..IO0 (bit `i` = IO`i`).
    pub io_out: u8,
    /// Which of IO3..IO0 the host drives.
    pub io_oe: u8,
}

/// A protocol violation seen by the flash.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlashError {
    /// The array is not a power of two of at most 16 MiB.
    #[error("flash of {0} bytes: the size must be a power of two up to 16 MiB")]
    BadSize(usize),
    /// A command other than 0x6B.
    #[error("unknown command 0x{0:02X} (the model answers 0x6B, Fast Read Quad Output)")]
    UnknownCommand(u8),
    /// The host sampled IO0 as an input while it should drive the command or address.
    #[error("IO0 floats at command/address clock {0}")]
    Floating(u64),
    /// The host drives a line while the flash drives it.
    #[error("bus contention: the host drives IO lines {0:04b} during the data phase")]
    Contention(u8),
}

/// One finished command (CS# low to CS# high): where it read and how many SCK clocks it took. An
/// abandoned command has fewer clocks, and its address holds the bits received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadCommand {
    /// The 24-bit start address.
    pub address: u32,
    /// Rising SCK edges from CS# low to CS# high.
    pub clocks: u64,
}

/// The flash array and the state of the command in progress.
#[derive(Clone, Debug)]
pub struct QspiFlash {
    image: Vec<u8>,
    selected: bool,
    sck: bool,
    clocks: u64,
    command: u8,
    address: u32,
    out: Option<u8>,
    done: Vec<ReadCommand>,
}

impl QspiFlash {
    /// A flash holding `image` (a power of two of at most 16 MiB; the address wraps at its end).
    pub fn new(image: Vec<u8>) -> Result<Self, FlashError> {
        if !image.len().is_power_of_two() || image.len() > MAX_FLASH_BYTES {
            return Err(FlashError::BadSize(image.len()));
        }
        Ok(QspiFlash {
            image,
            selected: false,
            sck: false,
            clocks: 0,
            command: 0,
            address: 0,
            out: None,
            done: Vec::new(),
        })
    }

    /// Advance to the host's pins of this cycle: act on a CS# change and on an SCK edge.
    pub fn step(&mut self, pins: &FlashPins) -> Result<(), FlashError> {
        if pins.cs_n {
            if self.selected {
                self.done.push(ReadCommand {
                    address: self.address,
                    clocks: self.clocks,
                });
            }
            self.selected = false;
            self.out = None;
            self.sck = pins.sck;
            return Ok(());
        }
        if !self.selected {
            self.selected = true;
            self.clocks = 0;
            self.command = 0;
            self.address = 0;
        }
        let rising = pins.sck && !self.sck;
        let falling = !pins.sck && self.sck;
        self.sck = pins.sck;
        if self.out.is_some() && pins.io_oe & 0xF != 0 {
            return Err(FlashError::Contention(pins.io_oe & 0xF));
        }
        if rising {
            self.clocks += 1;
            self.sample(pins)?;
        }
        if falling && self.clocks >= PREAMBLE_CLOCKS {
            self.out = Some(self.nibble(self.clocks - PREAMBLE_CLOCKS));
        }
        Ok(())
    }

    /// A rising SCK edge: take a command or address bit.
    fn sample(&mut self, pins: &FlashPins) -> Result<(), FlashError> {
        let address_end = 8 + ADDR_BITS as u64;
        if self.clocks > address_end {
            return Ok(());
        }
        if pins.io_oe & 1 == 0 {
            return Err(FlashError::Floating(self.clocks));
        }
        let bit = pins.io_out & 1;
        if self.clocks <= 8 {
            self.command = self.command << 1 | bit;
            if self.clocks == 8 && self.command != QUAD_OUTPUT_READ {
                return Err(FlashError::UnknownCommand(self.command));
            }
        } else {
            self.address = self.address << 1 | bit as u32;
        }
        Ok(())
    }

    /// Data nibble `n` of the command: byte `address + n / 2`, high nibble first.
    fn nibble(&self, n: u64) -> u8 {
        let at = (self.address as u64 + n / 2) as usize & (self.image.len() - 1);
        let byte = self.image[at];
        if n.is_multiple_of(2) {
            byte >> 4
        } else {
            byte & 0xF
        }
    }

    /// IO3..IO0 as the host reads them: the flash's nibble where it drives, else the host's
    /// value where the host drives, else 1 (pull-ups).
    pub fn bus(&self, pins: &FlashPins) -> u8 {
        match self.out {
            Some(n) => n,
            None => (pins.io_out & pins.io_oe | !pins.io_oe) & 0xF,
        }
    }

    /// Every command ended by CS# high so far, in order.
    pub fn commands(&self) -> &[ReadCommand] {
        &self.done
    }
}

/// A read request of the flash reader: byte address and word count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Byte address of the first word.
    pub addr: u64,
    /// Number of 32-bit words.
    pub words: u64,
}

/// What happened in one clock cycle of a [`ReaderBench`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cycle {
    /// The offered request was taken.
    pub taken: bool,
    /// A word and its `last` flag were handed over.
    pub word: Option<(u32, bool)>,
}

/// The rust-hdl flash reader ([`QspiReader`]) wired to a [`QspiFlash`], one clock at a time.
pub struct ReaderBench {
    /// The reader (its `reset` input is the caller's).
    pub uut: QspiReader,
    /// The flash.
    pub flash: QspiFlash,
}

impl ReaderBench {
    /// A reader after reset, in front of a flash holding `image`.
    pub fn new(image: Vec<u8>) -> Result<Self, FlashError> {
        let mut uut = QspiReader::default();
        uut.connect_all();
        // Settle the outputs before the flash first looks at them.
        assert!(simulate(&mut uut, 100), "the reader settles");
        let mut bench = ReaderBench {
            uut,
            flash: QspiFlash::new(image)?,
        };
        bench.uut.reset.next = true;
        bench.cycle(None, false)?;
        bench.uut.reset.next = false;
        Ok(bench)
    }

    /// The reader's pins as the flash sees them.
    pub fn pins(&self) -> FlashPins {
        FlashPins {
            cs_n: self.uut.cs_n.val(),
            sck: self.uut.sck.val(),
            io_out: self.uut.io_out.val().to_u64() as u8,
            io_oe: self.uut.io_oe.val().to_u64() as u8,
        }
    }

    /// One cycle: the flash follows the pins, the reader sees the bus, `offer` and `ready`, and
    /// takes a clock edge.
    pub fn cycle(&mut self, offer: Option<Request>, ready: bool) -> Result<Cycle, FlashError> {
        let pins = self.pins();
        self.flash.step(&pins)?;
        let uut = &mut self.uut;
        uut.io_in.next = (self.flash.bus(&pins) as u64).into();
        uut.out_ready.next = ready;
        uut.req_valid.next = offer.is_some();
        if let Some(r) = offer {
            uut.req_addr.next = r.addr.into();
            uut.req_words.next = r.words.into();
        }
        assert!(simulate(uut, 100), "the reader settles");
        let result = Cycle {
            taken: offer.is_some() && uut.req_ready.val(),
            word: (uut.out_valid.val() && ready)
                .then(|| (uut.out_data.val().to_u64() as u32, uut.out_last.val())),
        };
        for clk in [false, true] {
            uut.clock.next = Clock { clk };
            assert!(simulate(uut, 100), "the reader settles");
        }
        Ok(result)
    }

    /// Serve one request with the consumer always ready: its words, in order.
    pub fn read(&mut self, request: Request) -> Result<Vec<u32>, FlashError> {
        let mut words = Vec::with_capacity(request.words as usize);
        let mut offer = Some(request);
        while offer.is_some() || (words.len() as u64) < request.words {
            let c = self.cycle(offer, true)?;
            if c.taken {
                offer = None;
            }
            words.extend(c.word.map(|(w, _)| w));
        }
        Ok(words)
    }

    /// The commands the flash has finished, as (address, SCK clocks); the flash first follows
    /// the pins of the current cycle, so a command that CS# just ended counts.
    pub fn commands(&mut self) -> Result<Vec<(u32, u64)>, FlashError> {
        let pins = self.pins();
        self.flash.step(&pins)?;
        let done = self.flash.commands().iter();
        Ok(done.map(|c| (c.address, c.clocks)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plain bit-banged host: one command and `nibbles` data nibbles, sampled with SCK low;
    /// `data_oe` are the lines it (wrongly) drives during the data phase.
    fn read(
        flash: &mut QspiFlash,
        command: u8,
        address: u32,
        nibbles: u64,
        data_oe: u8,
    ) -> Result<Vec<u8>, FlashError> {
        let header = (command as u64) << 24 | address as u64;
        let mut got = Vec::new();
        let cycle = |flash: &mut QspiFlash, sck: bool, bit: Option<u8>, oe: u8| {
            let pins = FlashPins {
                cs_n: false,
                sck,
                io_out: 0b1100 | bit.unwrap_or(0),
                io_oe: oe,
            };
            flash.step(&pins).map(|_| flash.bus(&pins))
        };
        for i in 0..PREAMBLE_CLOCKS {
            let bit = (i < 32).then(|| (header >> (31 - i)) as u8 & 1);
            let oe = if i < 32 { 0b1101 } else { 0 };
            cycle(flash, false, bit, oe)?;
            cycle(flash, true, bit, oe)?;
        }
        for _ in 0..nibbles {
            got.push(cycle(flash, false, None, data_oe)?);
            cycle(flash, true, None, data_oe)?;
        }
        flash.step(&FlashPins {
            cs_n: true,
            ..FlashPins::default()
        })?;
        Ok(got)
    }

    #[test]
    fn quad_read_returns_bytes_high_nibble_first_and_wraps() {
        let mut flash = QspiFlash::new(vec![0x12, 0x34, 0x56, 0x78]).unwrap();
        assert_eq!(
            read(&mut flash, 0x6B, 2, 6, 0).unwrap(),
            [0x5, 0x6, 0x7, 0x8, 0x1, 0x2]
        );
        assert_eq!(
            flash.commands(),
            [ReadCommand {
                address: 2,
                clocks: PREAMBLE_CLOCKS + 6
            }]
        );
    }

    #[test]
    fn rejects_unknown_commands_floating_io0_and_contention() {
        let mut flash = QspiFlash::new(vec![0; 16]).unwrap();
        assert_eq!(
            read(&mut flash, 0x03, 0, 2, 0),
            Err(FlashError::UnknownCommand(0x03))
        );
        let mut flash = QspiFlash::new(vec![0; 16]).unwrap();
        let float = FlashPins {
            cs_n: false,
            sck: true,
            io_out: 0,
            io_oe: 0,
        };
        flash
            .step(&FlashPins {
                sck: false,
                ..float
            })
            .unwrap();
        assert_eq!(flash.step(&float), Err(FlashError::Floating(1)));
        let mut flash = QspiFlash::new(vec![0; 16]).unwrap();
        assert_eq!(
            read(&mut flash, 0x6B, 0, 2, 0b0001),
            Err(FlashError::Contention(0b0001))
        );
        assert!(matches!(
            QspiFlash::new(vec![0; 3]),
            Err(FlashError::BadSize(3))
        ));
    }
}
