//! QSPI flash reader: serves read requests (byte address, length in 32-bit words) from a serial
//! flash with one "Fast Read Quad Output" command (0x6B) each, and delivers the words on a
//! valid/ready stream with `last` on the final word of a request.
//!
//! SCK runs at half the clock while data flows (SPI mode 0: the reader changes its outputs with
//! SCK low and samples `io_in` at the clock edge that raises SCK). A command is CS# low, the
//! command byte and the 24-bit address MSB first on IO0 (IO2/WP# and IO3/HOLD# driven high,
//! IO1 released), 8 dummy clocks with every line released, then 4 bits per SCK clock on IO3..IO0.
//! Each flash byte arrives high nibble first; four consecutive bytes form one word, little-endian
//! (byte `a + 4i + j` is bits `8j..8j+7` of word `i`), which is how the decompressor lanes read
//! their memory words (bit `i` of a lane stream is bit `i mod 32` of word `i div 32`). When the
//! consumer stalls and both the output register and the word being assembled are full, SCK stays
//! low until there is room: the flash is static and the command simply pauses. CS# rises one
//! clock after the last SCK falling edge and stays high at least one clock before the next
//! command. The pad tristates stay outside: `io_oe[i]` enables the driver of IO`i`.

use crate::emit::{block_verilog, Manifest};
use rust_hdl::prelude::*;
use std::fmt::Write as _;

/// The read command: Fast Read Quad Output.
pub const QUAD_OUTPUT_READ: u8 = 0x6B;
/// Address bits of a request (a 16 MiB flash).
pub const ADDR_BITS: usize = 24;
/// Width of the word count of a request: at most `2^WORDS_BITS - 1` words per request.
pub const WORDS_BITS: usize = 22;
/// SCK clocks between the command and the first data nibble.
pub const DUMMY_CLOCKS: u64 = 8;
/// SCK clocks before the first data nibble: command, address, dummy.
pub const PREAMBLE_CLOCKS: u64 = 8 + ADDR_BITS as u64 + DUMMY_CLOCKS;
/// Module name of the emitted reader.
pub const QSPI_MODULE: &str = "lc_qspi_reader";
/// Verilator configuration with the justified lint waivers of the reader's Verilog.
pub const QSPI_LINT_WAIVERS: &str = include_str!("../lint/lc_qspi.vlt");
/// File name of the waivers.
pub const QSPI_LINT_WAIVERS_FILE: &str = "lc_qspi.vlt";

/// Where the reader is in a command.
#[derive(Copy, Clone, Debug, PartialEq, Eq, LogicState)]
pub enum QspiState {
    /// CS# high, accepting a request.
    Idle,
    /// Command, address and dummy clocks.
    Preamble,
    /// Data nibbles.
    Data,
    /// Last SCK clock done: CS# rises.
    Finish,
}

/// The QSPI flash reader (see the module documentation for the protocol and the word order).
#[derive(LogicBlock)]
pub struct QspiReader {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Synchronous reset: abandon any command, CS# high, output stream empty.
    pub reset: Signal<In, Bit>,

    /// A read request is offered.
    pub req_valid: Signal<In, Bit>,
    /// The reader takes a request (it is idle); a request of 0 words is taken and ignored.
    pub req_ready: Signal<Out, Bit>,
    /// Flash byte address of the first word.
    pub req_addr: Signal<In, Bits<ADDR_BITS>>,
    /// Number of 32-bit words to read.
    pub req_words: Signal<In, Bits<WORDS_BITS>>,

    /// The next word, little-endian from four flash bytes.
    pub out_data: Signal<Out, Bits<32>>,
    /// `out_data` is valid.
    pub out_valid: Signal<Out, Bit>,
    /// The word is the last of its request.
    pub out_last: Signal<Out, Bit>,
    /// The consumer takes the word.
    pub out_ready: Signal<In, Bit>,

    /// Serial clock to the flash.
    pub sck: Signal<Out, Bit>,
    /// Chip select to the flash, active low.
    pub cs_n: Signal<Out, Bit>,
    /// Values driven on IO3..IO0 where `io_oe` is set.
    pub io_out: Signal<Out, Bits<4>>,
    /// Output enables of IO3..IO0.
    pub io_oe: Signal<Out, Bits<4>>,
    /// IO3..IO0 as the pads read them.
    pub io_in: Signal<In, Bits<4>>,

    state: DFF<QspiState>,
    select: DFF<Bit>,
    sck_q: DFF<Bit>,
    drive: DFF<Bit>,
    shift: DFF<Bits<32>>,
    clocks: DFF<Bits<6>>,
    left: DFF<Bits<WORDS_BITS>>,
    /// `left` is not zero (kept beside it, so the data clocks test a flip-flop, not 22 bits).
    more: DFF<Bit>,
    nibbles: DFF<Bits<4>>,
    high: DFF<Bits<4>>,
    acc: DFF<Bits<32>>,
    acc_last: DFF<Bit>,
    data: DFF<Bits<32>>,
    valid: DFF<Bit>,
    last: DFF<Bit>,

    /// The assembled word moves to the output register this clock.
    hand_over: Signal<Local, Bit>,
    /// Nibble position in the word being assembled of a nibble sampled this clock.
    position: Signal<Local, Bits<4>>,
    /// The byte completed by a low nibble sampled this clock, in bits 31..24.
    new_byte: Signal<Local, Bits<32>>,

    command: Constant<Bits<32>>,
    address_done: Constant<Bits<6>>,
    preamble_done: Constant<Bits<6>>,
    zero_c: Constant<Bits<6>>,
    one_c: Constant<Bits<6>>,
    full: Constant<Bits<4>>,
    last_nibble: Constant<Bits<4>>,
    zero_n: Constant<Bits<4>>,
    one_n: Constant<Bits<4>>,
    zero_w: Constant<Bits<WORDS_BITS>>,
    one_w: Constant<Bits<WORDS_BITS>>,
    hold_lines: Constant<Bits<4>>,
    hold_lines_io0: Constant<Bits<4>>,
    command_oe: Constant<Bits<4>>,
    released: Constant<Bits<4>>,
    nibble_shift: Constant<Bits<5>>,
    byte_shift: Constant<Bits<5>>,
    top_byte_shift: Constant<Bits<5>>,
}

impl Default for QspiReader {
    fn default() -> Self {
        Self {
            clock: Default::default(),
            reset: Default::default(),
            req_valid: Default::default(),
            req_ready: Default::default(),
            req_addr: Default::default(),
            req_words: Default::default(),
            out_data: Default::default(),
            out_valid: Default::default(),
            out_last: Default::default(),
            out_ready: Default::default(),
            sck: Default::default(),
            cs_n: Default::default(),
            io_out: Default::default(),
            io_oe: Default::default(),
            io_in: Default::default(),
            state: Default::default(),
            select: Default::default(),
            sck_q: Default::default(),
            drive: Default::default(),
            shift: Default::default(),
            clocks: Default::default(),
            left: Default::default(),
            more: Default::default(),
            nibbles: Default::default(),
            high: Default::default(),
            acc: Default::default(),
            acc_last: Default::default(),
            data: Default::default(),
            valid: Default::default(),
            last: Default::default(),
            hand_over: Default::default(),
            position: Default::default(),
            new_byte: Default::default(),
            command: Constant::new(((QUAD_OUTPUT_READ as u64) << ADDR_BITS).into()),
            address_done: Constant::new((8 + ADDR_BITS as u64).into()),
            preamble_done: Constant::new(PREAMBLE_CLOCKS.into()),
            zero_c: Constant::new(0.into()),
            one_c: Constant::new(1.into()),
            full: Constant::new(8.into()),
            last_nibble: Constant::new(7.into()),
            zero_n: Constant::new(0.into()),
            one_n: Constant::new(1.into()),
            zero_w: Constant::new(0.into()),
            one_w: Constant::new(1.into()),
            hold_lines: Constant::new(0b1100.into()),
            hold_lines_io0: Constant::new(0b1101.into()),
            command_oe: Constant::new(0b1101.into()),
            released: Constant::new(0.into()),
            nibble_shift: Constant::new(4.into()),
            byte_shift: Constant::new(8.into()),
            top_byte_shift: Constant::new(24.into()),
        }
    }
}

impl Logic for QspiReader {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(
            self, clock, state, select, sck_q, drive, shift, clocks, left, more, nibbles, high,
            acc, acc_last, data, valid, last
        );
        // Output stream: the assembled word moves on when the output register is free.
        self.hand_over.next = (self.nibbles.q.val() == self.full.val())
            && (!self.valid.q.val() || self.out_ready.val());
        if self.out_ready.val() {
            self.valid.d.next = false;
        }
        if self.hand_over.val() {
            self.data.d.next = self.acc.q.val();
            self.valid.d.next = true;
            self.last.d.next = self.acc_last.q.val();
            self.nibbles.d.next = self.zero_n.val();
        }
        self.position.next = self.nibbles.q.val();
        if self.hand_over.val() {
            self.position.next = self.zero_n.val();
        }
        self.new_byte.next = bit_cast::<32, 8>(
            (bit_cast::<8, 4>(self.high.q.val()) << self.nibble_shift.val())
                | bit_cast::<8, 4>(self.io_in.val()),
        ) << self.top_byte_shift.val();

        match self.state.q.val() {
            QspiState::Idle => {
                if self.req_valid.val() && (self.req_words.val() != self.zero_w.val()) {
                    self.select.d.next = true;
                    self.drive.d.next = true;
                    self.shift.d.next =
                        self.command.val() | bit_cast::<32, ADDR_BITS>(self.req_addr.val());
                    self.clocks.d.next = self.zero_c.val();
                    self.left.d.next = self.req_words.val();
                    self.more.d.next = true;
                    self.state.d.next = QspiState::Preamble;
                }
            }
            QspiState::Preamble => {
                if !self.sck_q.q.val() {
                    self.sck_q.d.next = true;
                    self.clocks.d.next = self.clocks.q.val() + self.one_c.val();
                } else {
                    self.sck_q.d.next = false;
                    self.shift.d.next = self.shift.q.val() << self.one_c.val();
                    if self.clocks.q.val() == self.address_done.val() {
                        self.drive.d.next = false;
                    }
                    if self.clocks.q.val() == self.preamble_done.val() {
                        self.state.d.next = QspiState::Data;
                    }
                }
            }
            QspiState::Data => {
                if !self.sck_q.q.val() {
                    if self.more.q.val()
                        && ((self.nibbles.q.val() != self.full.val()) || self.hand_over.val())
                    {
                        // Raise SCK and sample the nibble the flash drove while SCK was low.
                        self.sck_q.d.next = true;
                        self.nibbles.d.next = self.position.val() + self.one_n.val();
                        if self.position.val().get_bit(0) {
                            self.acc.d.next =
                                (self.acc.q.val() >> self.byte_shift.val()) | self.new_byte.val();
                        } else {
                            self.high.d.next = self.io_in.val();
                        }
                        if self.position.val() == self.last_nibble.val() {
                            self.left.d.next = self.left.q.val() - self.one_w.val();
                            self.acc_last.d.next = self.left.q.val() == self.one_w.val();
                            self.more.d.next = self.left.q.val() != self.one_w.val();
                        }
                    }
                } else {
                    self.sck_q.d.next = false;
                    if !self.more.q.val() {
                        self.state.d.next = QspiState::Finish;
                    }
                }
            }
            QspiState::Finish => {
                self.select.d.next = false;
                self.state.d.next = QspiState::Idle;
            }
        }
        if self.reset.val() {
            self.state.d.next = QspiState::Idle;
            self.select.d.next = false;
            self.sck_q.d.next = false;
            self.drive.d.next = false;
            self.nibbles.d.next = self.zero_n.val();
            self.valid.d.next = false;
        }

        self.req_ready.next = self.state.q.val() == QspiState::Idle;
        self.out_data.next = self.data.q.val();
        self.out_valid.next = self.valid.q.val();
        self.out_last.next = self.last.q.val();
        self.sck.next = self.sck_q.q.val();
        self.cs_n.next = !self.select.q.val();
        self.io_out.next = self.hold_lines.val();
        if self.shift.q.val().get_bit(31) {
            self.io_out.next = self.hold_lines_io0.val();
        }
        self.io_oe.next = self.released.val();
        if self.drive.q.val() {
            self.io_oe.next = self.command_oe.val();
        }
    }
}

/// The Verilog text of the reader (top module [`QSPI_MODULE`]) and its port manifest.
pub fn generate_qspi() -> anyhow::Result<(String, Manifest)> {
    let (body, ports) = block_verilog(QspiReader::default(), QSPI_MODULE)?;
    let mut text = String::new();
    writeln!(
        text,
        "// QSPI flash reader (Fast Read Quad Output 0x{QUAD_OUTPUT_READ:02X}), 32-bit words.\n\
         // Generated by lc-hw (hw/src/qspi.rs).\n"
    )?;
    text.push_str(&body);
    let manifest = Manifest {
        top: QSPI_MODULE.to_string(),
        lanes: 1,
        mac_lanes: None,
        word_bits: 32,
        clock: "clock".to_string(),
        ports,
    };
    Ok((text, manifest))
}
