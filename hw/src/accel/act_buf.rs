//! The activation buffer of the accelerator: `2^ABITS` bytes, one read and one write per clock
//! from the controller's point of view, in one of two memories ([`ActMemory`]):
//!
//! * [`ActMemory::Dual`]: a simple dual-port byte array (block RAM on iCE40, 512 bytes per EBR):
//!   a read and a write in the same clock.
//! * [`ActMemory::Spram`]: iCE40 UP5K single-port RAM, `SB_SPRAM256KA` blocks of 16K x 16 bits
//!   (32 KiB each). One access per clock: a write takes the port, and the read of that clock is
//!   not performed (`rdata` keeps the last value read). The controller therefore issues no read
//!   while it writes. Bytes sit in the low / high half of a 16-bit word by address bit 0 and are
//!   written with the nibble write mask; address bits 15 and up choose the block.
//!
//! Reads are synchronous: the byte at `raddr` appears on `rdata` one clock later. The emitted
//! Verilog instantiates the primitives for synthesis and carries a behavioural model of them
//! under `ifdef VERILATOR` for simulation.

use rust_hdl::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Which memory holds the activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActMemory {
    /// Dual-port block RAM (a read and a write per clock).
    Dual,
    /// iCE40 UP5K `SB_SPRAM256KA` single-port RAM (a read or a write per clock).
    Spram,
}

/// Address bits of one `SB_SPRAM256KA` block in bytes (16K words of 16 bits).
pub const SPRAM_BYTE_ADDR_BITS: usize = 15;

/// The activation buffer of `2^ABITS` bytes.
#[derive(LogicBlock)]
pub struct ActBuffer<const ABITS: usize> {
    /// Clock.
    pub clock: Signal<In, Clock>,
    /// Write `wdata` at `waddr` this clock.
    pub we: Signal<In, Bit>,
    /// Write address.
    pub waddr: Signal<In, Bits<ABITS>>,
    /// Write data.
    pub wdata: Signal<In, Bits<8>>,
    /// Read address.
    pub raddr: Signal<In, Bits<ABITS>>,
    /// The byte read at the previous edge.
    pub rdata: Signal<Out, Bits<8>>,
    _memory: ActMemory,
    _sim: BTreeMap<u64, Bits<8>>,
}

impl<const ABITS: usize> ActBuffer<ABITS> {
    /// A buffer in `memory`.
    pub fn new(memory: ActMemory) -> Self {
        assert!(
            memory == ActMemory::Dual || ABITS >= SPRAM_BYTE_ADDR_BITS,
            "an SPRAM activation buffer holds whole 32 KiB blocks"
        );
        Self {
            clock: Default::default(),
            we: Default::default(),
            waddr: Default::default(),
            wdata: Default::default(),
            raddr: Default::default(),
            rdata: Default::default(),
            _memory: memory,
            _sim: BTreeMap::new(),
        }
    }

    /// The memory it is built from.
    pub fn memory(&self) -> ActMemory {
        self._memory
    }

    fn dual_verilog() -> String {
        format!(
            "reg [7:0] mem [0:{last}];\nreg [7:0] q;\nassign rdata = q;\n\
             always @(posedge clock) begin\n    q <= mem[raddr];\n    \
             if (we) mem[waddr] <= wdata;\nend\n",
            last = (1usize << ABITS) - 1
        )
    }

    fn spram_verilog() -> String {
        let sel_bits = ABITS - SPRAM_BYTE_ADDR_BITS;
        let blocks = 1usize << sel_bits;
        let mut v = format!(
            "wire [{hi}:0] addr = we ? waddr : raddr;\n\
             wire [13:0] word = addr[14:1];\n\
             wire [15:0] din = {{wdata, wdata}};\n\
             wire [3:0] mask = addr[0] ? 4'b1100 : 4'b0011;\n\
             wire [{dhi}:0] dout;\n\
             reg byte_q;\n\
             always @(posedge clock) if (!we) byte_q <= addr[0];\n",
            hi = ABITS - 1,
            dhi = 16 * blocks - 1
        );
        let w = &mut v;
        if sel_bits > 0 {
            let _ = writeln!(
                w,
                "reg [{s}:0] sel_q;\nalways @(posedge clock) if (!we) sel_q <= addr[{hi}:{lo}];\n\
                 wire [15:0] word_q = dout[{{sel_q, 4'b0}} +: 16];",
                s = sel_bits - 1,
                hi = ABITS - 1,
                lo = SPRAM_BYTE_ADDR_BITS
            );
        } else {
            let _ = writeln!(w, "wire [15:0] word_q = dout;");
        }
        let _ = writeln!(w, "assign rdata = byte_q ? word_q[15:8] : word_q[7:0];");
        for b in 0..blocks {
            let cs = if sel_bits > 0 {
                format!(
                    "(addr[{}:{}] == {sel_bits}'d{b})",
                    ABITS - 1,
                    SPRAM_BYTE_ADDR_BITS
                )
            } else {
                "1'b1".to_string()
            };
            let dout = format!("dout[{}:{}]", 16 * b + 15, 16 * b);
            let _ = write!(
                w,
                "wire cs{b} = {cs};\n\
                 `ifdef VERILATOR\n\
                 // Behavioural SB_SPRAM256KA: a write updates the masked nibbles and leaves\n\
                 // DATAOUT alone; a read registers the word.\n\
                 reg [15:0] mem{b} [0:16383];\n\
                 reg [15:0] q{b};\n\
                 assign {dout} = q{b};\n\
                 always @(posedge clock) if (cs{b}) begin\n\
                 \x20   if (we) begin\n\
                 \x20       if (mask[0]) mem{b}[word][3:0] <= din[3:0];\n\
                 \x20       if (mask[1]) mem{b}[word][7:4] <= din[7:4];\n\
                 \x20       if (mask[2]) mem{b}[word][11:8] <= din[11:8];\n\
                 \x20       if (mask[3]) mem{b}[word][15:12] <= din[15:12];\n\
                 \x20   end else q{b} <= mem{b}[word];\n\
                 end\n\
                 `else\n\
                 SB_SPRAM256KA ram{b} (.ADDRESS(word), .DATAIN(din), .MASKWREN(mask), .WREN(we), \
                 .CHIPSELECT(cs{b}), .CLOCK(clock), .STANDBY(1'b0), .SLEEP(1'b0), .POWEROFF(1'b1), \
                 .DATAOUT({dout}));\n\
                 `endif\n"
            );
        }
        v
    }
}

impl<const ABITS: usize> Logic for ActBuffer<ABITS> {
    fn update(&mut self) {
        if self.clock.pos_edge() {
            let we = self.we.val();
            if self._memory == ActMemory::Dual || !we {
                let at = self.raddr.val().index() as u64;
                self.rdata.next = self._sim.get(&at).copied().unwrap_or_default();
            }
            if we {
                self._sim
                    .insert(self.waddr.val().index() as u64, self.wdata.val());
            }
        }
    }

    fn connect(&mut self) {
        self.rdata.connect();
    }

    fn hdl(&self) -> Verilog {
        let code = match self._memory {
            ActMemory::Dual => Self::dual_verilog(),
            ActMemory::Spram => Self::spram_verilog(),
        };
        Verilog::Wrapper(Wrapper {
            code,
            cores: String::new(),
        })
    }
}
