//! The iCEBreaker (iCE40 UP5K, sg48) board top of the [`UP5K`](super::UP5K) accelerator: its
//! flash top ([`super::flash_top`]: the QSPI flash reader in front of the decompressor lane), a
//! PLL from the board's 12 MHz oscillator, the flash pads, and a four-pin host port.
//!
//! Host port (PMOD 1A): `host_clk`, `host_din`, `host_strobe` in, `host_dout` out, all sampled
//! with the system clock through two-flip-flop synchronisers (the host runs them at most at a
//! quarter of the system clock). Each rising edge of `host_clk` shifts `host_din` into the top of
//! the input chain (bit 0 of the chain is the bit shifted in first of the last [`BoardTop::chain_bits`])
//! and shifts the status register one bit towards `host_dout`. A rising edge of `host_strobe`
//! acts on the command bits of the chain (one-clock pulses: start, reset, parameter write,
//! activation write, flash request) and captures the status register: `act_rdata`, busy, done,
//! error, the decompressor lane's error and done, and whether the flash reader is idle.
//!
//! The chain holds every input of the flash top that the host drives (layer registers,
//! decompressor parameters, lane stream lengths, channels per MAC lane, the flash request's byte
//! address and words). The activation and parameter ports are used only while the accelerator is idle, so
//! they overlay the layer registers instead of adding flip-flops: the host shifts the layer in
//! again before `start`. [`BoardTop::fields`] lists the layout.

use crate::emit::{range, Manifest, Port, PortDirection};
use anyhow::{bail, Context, Result};
use std::fmt::Write as _;

/// Module name of the board top.
pub const BOARD_MODULE: &str = "lc_up5k_board";
/// Frequency of the iCEBreaker oscillator in MHz.
pub const OSC_MHZ: f64 = 12.0;
/// The system clock (the PLL's nearest setting at most this, or the oscillator itself at 12 MHz)
/// that place and route is constrained to. The board top places at about 29-31 MHz on the UP5K
/// depending on the placement seed (docs/HARDWARE.md); it still runs from the oscillator (at 12 MHz
/// no PLL is instantiated), which the timing check uses, while Fmax is what the placement reaches.
pub const CLOCK_MHZ: f64 = 12.0;

/// A physical pin of the board top.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    /// Port name.
    pub port: &'static str,
    /// sg48 package pin.
    pub pin: u32,
}

/// The pins of the board top on the iCEBreaker (its published pin constraints file): 12 MHz
/// oscillator, the configuration flash in quad mode, PMOD 1A pins 1-4 for the host, and the two
/// user LEDs (active low) for done and error.
pub const PINS: [Pin; 12] = [
    Pin {
        port: "clk_12m",
        pin: 35,
    },
    Pin {
        port: "flash_sck",
        pin: 15,
    },
    Pin {
        port: "flash_cs_n",
        pin: 16,
    },
    Pin {
        port: "flash_io[0]",
        pin: 14,
    },
    Pin {
        port: "flash_io[1]",
        pin: 17,
    },
    Pin {
        port: "flash_io[2]",
        pin: 12,
    },
    Pin {
        port: "flash_io[3]",
        pin: 13,
    },
    Pin {
        port: "host_clk",
        pin: 4,
    },
    Pin {
        port: "host_din",
        pin: 2,
    },
    Pin {
        port: "host_strobe",
        pin: 47,
    },
    Pin {
        port: "host_dout",
        pin: 45,
    },
    Pin {
        port: "led_done_n",
        pin: 37,
    },
];

/// The red user LED (active low): the accelerator or its decompressor lane reported an error.
pub const ERROR_LED: Pin = Pin {
    port: "led_error_n",
    pin: 11,
};

/// The command bits at the bottom of the chain, in order.
pub const COMMANDS: [&str; 5] = ["start", "reset", "prm_we", "act_we", "req_valid"];

/// Flash pin ports of the flash top, which go to the pads.
const PADS: [&str; 4] = ["flash_sck", "flash_cs_n", "flash_io_out", "flash_io_oe"];

/// Inputs of the flash top that the board drives itself, not the chain.
const BOARD_DRIVEN: [&str; 2] = ["flash_req_valid", "flash_io_in"];

/// Fields that the chain holds narrower than the accelerator port: (port, bits (per lane for a
/// per-lane bus), sign-extended). These are the limits of the UP5K build: at most 256 channels
/// (the parameter memory), K at most 1,024 (the weight banks), planes of at most 255 x 255,
/// kernels and strides up to 15, padding up to 127.
pub const NARROW: [(&str, usize, bool); 15] = [
    ("lay_in_c", 11, false),
    ("lay_in_h", 8, false),
    ("lay_in_w", 8, false),
    ("lay_kh", 4, false),
    ("lay_kw", 4, false),
    ("lay_stride_h", 4, false),
    ("lay_stride_w", 4, false),
    ("lay_out_h", 8, false),
    ("lay_out_w", 8, false),
    ("lay_out_c", 9, false),
    ("lay_k_len", 11, false),
    ("lay_groups", 6, false),
    ("lay_ix0", 8, true),
    ("lay_iy0", 8, true),
    ("lane_channels", 8, false),
];

/// The chain width of `port` and whether it is sign-extended.
fn narrow(port: &Port) -> (usize, bool) {
    match NARROW.iter().find(|n| n.0 == port.name) {
        Some(&(_, bits, signed)) => match port.lane_width {
            Some(lane) => (port.width / lane * bits, signed),
            None => (bits, signed),
        },
        None => (port.width, false),
    }
}

/// The status bits shifted out after a strobe, from bit 0: `act_rdata` (8 bits), then these.
pub const STATUS: [&str; 6] = [
    "busy",
    "done",
    "error",
    "dec_error",
    "dec_done",
    "flash_req_ready",
];

/// One field of the host chain.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChainField {
    /// Port of the flash top (or command) the field drives.
    pub name: String,
    /// Lowest chain bit.
    pub offset: usize,
    /// Width.
    pub width: usize,
}

/// PLL settings of `SB_PLL40_PAD` (simple feedback) for one output frequency.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pll {
    /// Reference divider.
    pub divr: u32,
    /// Feedback divider.
    pub divf: u32,
    /// Output divider (power of two).
    pub divq: u32,
    /// Loop filter range.
    pub filter_range: u32,
    /// Output frequency in MHz.
    pub mhz: f64,
}

impl Pll {
    /// The settings whose output from `input_mhz` is closest to `target_mhz` without exceeding
    /// it (the iCE40 PLL limits: PFD 10-133 MHz, VCO 533-1066 MHz, output 16-275 MHz).
    pub fn for_target(input_mhz: f64, target_mhz: f64) -> Result<Pll> {
        let mut best: Option<Pll> = None;
        for divr in 0..16u32 {
            let pfd = input_mhz / f64::from(divr + 1);
            if !(10.0..=133.0).contains(&pfd) {
                continue;
            }
            for divf in 0..128u32 {
                let vco = pfd * f64::from(divf + 1);
                if !(533.0..=1066.0).contains(&vco) {
                    continue;
                }
                for divq in 1..7u32 {
                    let mhz = vco / f64::from(1u32 << divq);
                    if !(16.0..=275.0).contains(&mhz) || mhz > target_mhz + 1e-9 {
                        continue;
                    }
                    if best.is_none_or(|b| mhz > b.mhz + 1e-9) {
                        best = Some(Pll {
                            divr,
                            divf,
                            divq,
                            filter_range: filter_range(pfd),
                            mhz,
                        });
                    }
                }
            }
        }
        best.with_context(|| {
            format!("no PLL setting gives at most {target_mhz} MHz from {input_mhz} MHz")
        })
    }
}

/// The loop filter range for a phase detector frequency (iCE40 sysCLOCK PLL guide).
fn filter_range(pfd_mhz: f64) -> u32 {
    match pfd_mhz {
        f if f < 17.0 => 1,
        f if f < 26.0 => 2,
        f if f < 44.0 => 3,
        f if f < 66.0 => 4,
        f if f < 101.0 => 5,
        _ => 6,
    }
}

/// The board top: its Verilog, the pin constraints and the chain layout.
#[derive(Clone, Debug)]
pub struct BoardTop {
    /// The board top module (it instantiates the flash top by name).
    pub verilog: String,
    /// Pin constraints (nextpnr `--pcf`).
    pub pcf: String,
    /// Host chain layout.
    pub fields: Vec<ChainField>,
    /// The PLL (none when the clock is the oscillator's).
    pub pll: Option<Pll>,
}

impl BoardTop {
    /// The system clock in MHz.
    pub fn clock_mhz(&self) -> f64 {
        self.pll.map_or(OSC_MHZ, |p| p.mhz)
    }

    /// The net of the system clock as nextpnr names it in its Fmax report (its prefix).
    pub fn clock_net(&self) -> &'static str {
        match self.pll {
            Some(_) => "clock",
            None => "clk_12m",
        }
    }

    /// Length of the host chain in bits.
    pub fn chain_bits(&self) -> usize {
        self.fields
            .iter()
            .map(|f| f.offset + f.width)
            .max()
            .unwrap_or(0)
    }
}

fn port<'a>(m: &'a Manifest, name: &str) -> Result<&'a Port> {
    m.ports
        .iter()
        .find(|p| p.name == name)
        .with_context(|| format!("{} has no port {name}", m.top))
}

/// Host-driven accelerator inputs that only matter while it is idle (they overlay the layer).
fn idle_only(name: &str) -> bool {
    (name.starts_with("act_") || name.starts_with("prm_")) && !COMMANDS.contains(&name)
}

/// The chain layout for the flash top `top`.
fn chain_fields(top: &Manifest) -> Vec<ChainField> {
    let mut fields: Vec<ChainField> = COMMANDS
        .iter()
        .enumerate()
        .map(|(i, c)| ChainField {
            name: c.to_string(),
            offset: i,
            width: 1,
        })
        .collect();
    let driven = |p: &&Port| {
        p.direction == PortDirection::Input
            && p.name != top.clock
            && !COMMANDS.contains(&p.name.as_str())
            && !BOARD_DRIVEN.contains(&p.name.as_str())
    };
    let mut at = COMMANDS.len();
    let mut overlay_at = None;
    for p in top
        .ports
        .iter()
        .filter(driven)
        .filter(|p| !idle_only(&p.name))
    {
        if overlay_at.is_none() && p.name.starts_with("lay_") {
            overlay_at = Some(at);
        }
        let width = narrow(p).0;
        fields.push(ChainField {
            name: p.name.clone(),
            offset: at,
            width,
        });
        at += width;
    }
    let mut at = overlay_at.unwrap_or(COMMANDS.len());
    for p in top
        .ports
        .iter()
        .filter(driven)
        .filter(|p| idle_only(&p.name))
    {
        fields.push(ChainField {
            name: p.name.clone(),
            offset: at,
            width: p.width,
        });
        at += p.width;
    }
    fields
}

/// The board top around the flash top `accel` (an accelerator with one decompressor lane and
/// the QSPI reader in front of it), clocked by a PLL at most `target_mhz`.
pub fn board_top(accel: &Manifest, target_mhz: f64) -> Result<BoardTop> {
    if accel.lanes != 1 {
        bail!(
            "the board top feeds one decompressor lane, not {}",
            accel.lanes
        );
    }
    for name in BOARD_DRIVEN.iter().chain(&PADS) {
        port(accel, name)?;
    }
    // At the oscillator's frequency the clock comes straight from its pin.
    let pll = if (target_mhz - OSC_MHZ).abs() < 1e-9 {
        None
    } else {
        Some(Pll::for_target(OSC_MHZ, target_mhz)?)
    };
    let fields = chain_fields(accel);
    let n = fields.iter().map(|f| f.offset + f.width).max().unwrap_or(1);
    let field = |name: &str| fields.iter().find(|f| f.name == name);
    let bits = |f: &ChainField| {
        if f.width == 1 {
            format!("chain[{}]", f.offset)
        } else {
            format!("chain[{}:{}]", f.offset + f.width - 1, f.offset)
        }
    };
    let status_bits = 8 + STATUS.len();

    let mut v = String::new();
    writeln!(
        v,
        "// iCEBreaker (iCE40 UP5K sg48) board top: {}, weights from the QSPI flash.\n\
         // Generated by lc-hw (hw/src/accel/board.rs).\n\
         module {BOARD_MODULE} (\n    input wire clk_12m,\n    output wire flash_sck,\n    \
         output wire flash_cs_n,\n    inout wire [3:0] flash_io,\n    input wire host_clk,\n    \
         input wire host_din,\n    input wire host_strobe,\n    output wire host_dout,\n    \
         output wire led_done_n,\n    output wire led_error_n\n);",
        accel.top
    )?;
    match &pll {
        Some(pll) => writeln!(
            v,
            "    wire clock;\n    // {:.2} MHz from the 12 MHz oscillator.\n    \
             SB_PLL40_PAD #(.FEEDBACK_PATH(\"SIMPLE\"), .DIVR(4'd{}), .DIVF(7'd{}), .DIVQ(3'd{}), \
             .FILTER_RANGE(3'd{})) pll (\n        .PACKAGEPIN(clk_12m), .PLLOUTGLOBAL(clock), \
             .RESETB(1'b1), .BYPASS(1'b0)\n    );",
            pll.mhz, pll.divr, pll.divf, pll.divq, pll.filter_range
        )?,
        None => writeln!(v, "    wire clock = clk_12m;")?,
    }
    // Flash pads: IO0..IO3 with output enables; SCK and CS# are plain outputs.
    writeln!(
        v,
        "    wire [3:0] io_out;\n    wire [3:0] io_oe;\n    wire [3:0] io_in;"
    )?;
    for i in 0..4 {
        writeln!(
            v,
            "    SB_IO #(.PIN_TYPE(6'b1010_01), .PULLUP(1'b1)) flash_io{i} (.PACKAGE_PIN(flash_io[{i}]), \
             .OUTPUT_ENABLE(io_oe[{i}]), .D_OUT_0(io_out[{i}]), .D_IN_0(io_in[{i}]));"
        )?;
    }
    // Host port.
    writeln!(
        v,
        "    reg [2:0] hclk_s = 3'd0;\n    reg [2:0] hstb_s = 3'd0;\n    reg [1:0] hdin_s = 2'd0;\n    \
         always @(posedge clock) begin\n        hclk_s <= {{hclk_s[1:0], host_clk}};\n        \
         hstb_s <= {{hstb_s[1:0], host_strobe}};\n        hdin_s <= {{hdin_s[0], host_din}};\n    end\n    \
         wire shift_in = hclk_s[1] & ~hclk_s[2];\n    wire strobe = hstb_s[1] & ~hstb_s[2];\n    \
         reg [{hi}:0] chain = {n}'d0;\n    always @(posedge clock) if (shift_in) chain <= {{hdin_s[1], chain[{hi}:1]}};",
        hi = n - 1
    )?;
    writeln!(
        v,
        "    reg [{}:0] pulse = {}'d0;",
        COMMANDS.len() - 1,
        COMMANDS.len()
    )?;
    writeln!(
        v,
        "    always @(posedge clock) pulse <= strobe ? chain[{}:0] : {}'d0;",
        COMMANDS.len() - 1,
        COMMANDS.len()
    )?;
    writeln!(
        v,
        "    reg req_pending = 1'b0;\n    always @(posedge clock) \
         if (pulse[1]) req_pending <= 1'b0; else if (pulse[4]) req_pending <= 1'b1; \
         else if (flash_req_ready) req_pending <= 1'b0;"
    )?;
    // Accelerator outputs.
    for p in accel
        .ports
        .iter()
        .filter(|p| p.direction == PortDirection::Output)
        .filter(|p| !PADS[..2].contains(&p.name.as_str()))
    {
        // Per-lane buses keep their range, so that lane 0 of one lane is `x[0]`.
        let r = match p.lane_width {
            Some(_) => format!("[{}:0] ", p.width - 1),
            None => range(p.width),
        };
        writeln!(v, "    wire {r}{};", p.name)?;
    }
    let mut status: Vec<String> = STATUS.iter().rev().map(|s| s.to_string()).collect();
    status.push("act_rdata".into());
    writeln!(
        v,
        "    reg [{sh}:0] status = {sw}'d0;\n    always @(posedge clock) if (strobe) status <= {{{}}}; \
         else if (shift_in) status <= {{1'b0, status[{sh}:1]}};\n    assign host_dout = status[0];",
        status.join(", "),
        sh = status_bits - 1,
        sw = status_bits
    )?;
    writeln!(
        v,
        "    assign led_done_n = ~done;\n    assign led_error_n = ~(error | dec_error[0]);"
    )?;
    // The accelerator.
    let mut conns = Vec::new();
    for p in &accel.ports {
        let sig = match p.name.as_str() {
            n if n == accel.clock => "clock".to_string(),
            "start" => "pulse[0]".into(),
            "reset" => "pulse[1]".into(),
            "prm_we" => "pulse[2]".into(),
            "act_we" => "pulse[3]".into(),
            "flash_req_valid" => "req_pending".into(),
            "flash_io_in" => "io_in".into(),
            "flash_io_out" => "io_out".into(),
            "flash_io_oe" => "io_oe".into(),
            n if p.direction == PortDirection::Output => n.to_string(),
            n => {
                let f = field(n).with_context(|| format!("no chain field for {n}"))?;
                let (width, signed) = narrow(p);
                let lane = p.lane_width.unwrap_or(p.width);
                let slots = p.width / lane;
                let b = width / slots;
                if b == lane {
                    bits(f)
                } else {
                    // Each slot zero- or sign-extended to the port's width.
                    let parts: Vec<String> = (0..slots)
                        .rev()
                        .map(|l| {
                            let lo = f.offset + l * b;
                            let hi = lo + b - 1;
                            let fill = if signed {
                                format!("{{{}{{chain[{hi}]}}}}", lane - b)
                            } else {
                                format!("{}'d0", lane - b)
                            };
                            format!("{fill}, chain[{hi}:{lo}]")
                        })
                        .collect();
                    format!("{{{}}}", parts.join(", "))
                }
            }
        };
        conns.push(format!("        .{}({sig})", p.name));
    }
    writeln!(
        v,
        "    {} accel (\n{}\n    );",
        accel.top,
        conns.join(",\n")
    )?;
    writeln!(v, "endmodule")?;

    let mut pcf =
        String::from("# iCEBreaker pins of the LineCompress UP5K board top. Generated by lc-hw.\n");
    for p in PINS.iter().chain(std::iter::once(&ERROR_LED)) {
        writeln!(pcf, "set_io {} {}", p.port, p.pin)?;
    }
    Ok(BoardTop {
        verilog: v,
        pcf,
        fields,
        pll,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pll_matches_the_icepll_table() {
        // icepll -i 12 -o 30: DIVR 0, DIVF 79, DIVQ 5, FILTER_RANGE 1, 30.000 MHz.
        let p = Pll::for_target(12.0, 30.0).unwrap();
        assert_eq!((p.divr, p.divf, p.divq, p.filter_range), (0, 79, 5, 1));
        assert!((p.mhz - 30.0).abs() < 1e-9);
        // Never above the target.
        assert!(Pll::for_target(12.0, 33.3).unwrap().mhz <= 33.3);
        assert!(Pll::for_target(12.0, 5.0).is_err());
    }
}
