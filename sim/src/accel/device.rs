//! The Verilator model of the accelerator behind a host-side API: reset, activation buffer
//! access, parameter memory writes, and running one programmed layer with the weight streams
//! served by the [`Dram`] model, or, for the flash top (`<core>_qspi`), read by the RTL flash
//! reader from the behavioural QSPI flash ([`FlashStore`]) wired to its pins. Cycles are counted
//! per call.

use super::dram::{Dram, DramConfig};
use super::flash_store::FlashStore;
use super::job::{layer_registers, LayerJob};
use super::plan::NetworkPlan;
use crate::dut::cfg_values;
use crate::flash::FlashPins;
use crate::model::{Model, PortId};
use anyhow::{anyhow, bail, Result};
use lc_format::Profile;
use lc_hw::accel::flash_top::flash_top_name;
use lc_hw::accel::AccelLanes;
use lc_hw::config::CFG_PORTS;
use lc_hw::qspi::PREAMBLE_CLOCKS;

/// Where the device's weights come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Memory {
    /// A DRAM model on the decompressor lanes' memory word ports.
    #[default]
    Dram,
    /// A QSPI flash on the pins of the flash top (one decompressor lane).
    Qspi,
}
use std::path::{Path, PathBuf};

/// Names of the per-lane and shared ports the host drives.
struct Ports {
    reset: PortId,
    start: PortId,
    cfg: Vec<PortId>,
    prm_we: PortId,
    prm_addr: PortId,
    prm: [PortId; 5],
    act_we: PortId,
    act_waddr: PortId,
    act_wdata: PortId,
    act_raddr: PortId,
    act_rdata: PortId,
    done: PortId,
    error: PortId,
    length_bits: PortId,
    count: PortId,
    lane_channels: PortId,
    dec_error: PortId,
}

/// The decompressor lanes' memory word ports (served by the DRAM model).
struct WordPorts {
    in_data: PortId,
    in_valid: PortId,
    /// The compact lane's last-word flag (the full lane counts its words itself).
    in_last: Option<PortId>,
    in_ready: PortId,
}

/// The flash top's request port and flash pins, and the flash behind them.
struct FlashSide {
    req_valid: PortId,
    req_ready: PortId,
    req_addr: PortId,
    req_words: PortId,
    sck: PortId,
    cs_n: PortId,
    io_out: PortId,
    io_oe: PortId,
    io_in: PortId,
    /// The word adapter's FP32 mode (flash tops of 64-bit lanes only).
    narrow: Option<PortId>,
    store: FlashStore,
}

/// What the device reads its weights through.
enum WeightPort {
    Words(WordPorts),
    Flash(Box<FlashSide>),
}

/// Counts of one layer run.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct LayerRun {
    /// Cycles from `start` until `done`.
    pub cycles: u64,
    /// Cycles the host spent on the activation and parameter ports for this layer.
    pub io_cycles: u64,
    /// DRAM bytes read for the weights.
    pub dram_bytes: f64,
    /// Flash bytes read for the weights.
    pub flash_bytes: f64,
    /// Read commands the flash finished.
    pub flash_commands: u64,
    /// Weights that went through the decompressor lanes.
    pub weights: u64,
}

/// The Verilator model of the accelerator with P MAC lanes and D decompressor lanes (the UP5K
/// build, activations in SPRAM, for the lane counts of [`lc_hw::accel::UP5K`]).
pub struct AccelDevice {
    model: Model,
    profile: String,
    lanes: AccelLanes,
    word_bits: usize,
    ports: Ports,
    weights: WeightPort,
    window: Option<(PathBuf, u64, u64)>,
    sizes: lc_hw::accel::AccelSizes,
}

impl AccelDevice {
    /// A fresh model of the accelerator with `lanes` and the decompressor lanes of `profile` (it
    /// must be compiled into this crate).
    pub fn new(profile: &Profile, lanes: AccelLanes) -> Result<Self> {
        Self::with_memory(profile, lanes, None)
    }

    /// A fresh model of the accelerator with `lanes` and the decompressor lanes of `profile`,
    /// its weights from the DRAM model, or, with `flash`, the flash top reading that flash.
    fn with_memory(
        profile: &Profile,
        lanes: AccelLanes,
        flash: Option<FlashStore>,
    ) -> Result<Self> {
        let memory = lc_hw::accel::point::memory_for(lanes);
        let core = lc_hw::accel::accel_top_name_in(profile, lanes, memory);
        let top = match flash {
            Some(_) => flash_top_name(&core),
            None => core,
        };
        let model = Model::new(&top)?;
        let p = |n: &str| model.port(n);
        let weights = match flash {
            Some(store) => WeightPort::Flash(Box::new(FlashSide {
                req_valid: p("flash_req_valid")?,
                req_ready: p("flash_req_ready")?,
                req_addr: p("flash_req_addr")?,
                req_words: p("flash_req_words")?,
                sck: p("flash_sck")?,
                cs_n: p("flash_cs_n")?,
                io_out: p("flash_io_out")?,
                io_oe: p("flash_io_oe")?,
                io_in: p("flash_io_in")?,
                narrow: model.port("flash_narrow").ok(),
                store,
            })),
            None => WeightPort::Words(WordPorts {
                in_data: p("in_data")?,
                in_valid: p("in_valid")?,
                in_last: model.port("in_last").ok(),
                in_ready: p("in_ready")?,
            }),
        };
        let ports = Ports {
            reset: p("reset")?,
            start: p("start")?,
            cfg: CFG_PORTS
                .iter()
                .map(|c| p(c.name))
                .collect::<Result<Vec<_>>>()?,
            prm_we: p("prm_we")?,
            prm_addr: p("prm_addr")?,
            prm: [
                p("prm_bias")?,
                p("prm_mult")?,
                p("prm_shift")?,
                p("prm_nmult")?,
                p("prm_nshift")?,
            ],
            act_we: p("act_we")?,
            act_waddr: p("act_waddr")?,
            act_wdata: p("act_wdata")?,
            act_raddr: p("act_raddr")?,
            act_rdata: p("act_rdata")?,
            done: p("done")?,
            error: p("error")?,
            length_bits: p("length_bits")?,
            count: p("count")?,
            lane_channels: p("lane_channels")?,
            dec_error: p("dec_error")?,
        };
        let word_bits = model.manifest().word_bits;
        let mut dev = AccelDevice {
            model,
            sizes: lc_hw::accel::emit::sizes(memory),
            profile: profile.name.clone(),
            lanes,
            word_bits,
            ports,
            weights,
            window: None,
        };
        dev.reset()?;
        Ok(dev)
    }

    /// A fresh model of the accelerator `plan` is made for, with its weights in the DRAM model.
    pub fn for_plan(plan: &NetworkPlan) -> Result<Self> {
        Self::new(plan.profile, plan.accel_lanes()?)
    }

    /// A fresh model of the accelerator `plan` is made for, with its weights in `memory`: for
    /// [`Memory::Qspi`] the flash top with the plan's flash image in the flash model.
    pub fn for_plan_on(plan: &NetworkPlan, memory: Memory) -> Result<Self> {
        let flash = match memory {
            Memory::Dram => None,
            Memory::Qspi => Some(FlashStore::new(plan)?),
        };
        Self::with_memory(plan.profile, plan.accel_lanes()?, flash)
    }

    /// Read commands the flash has finished (0 without a flash).
    pub fn flash_commands(&self) -> usize {
        match &self.weights {
            WeightPort::Flash(f) => f.store.flash.commands().len(),
            WeightPort::Words(_) => 0,
        }
    }

    /// Number of MAC lanes.
    pub fn lanes(&self) -> usize {
        self.lanes.mac()
    }

    /// Number of decompressor lanes.
    pub fn dec_lanes(&self) -> usize {
        self.lanes.dec()
    }

    /// Name of the hardware profile of the decompressor lanes.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Width of a memory word of the decompressor lanes.
    pub fn word_bits(&self) -> usize {
        self.word_bits
    }

    /// Total clock cycles of the model so far.
    pub fn cycle(&self) -> u64 {
        self.model.cycle()
    }

    /// Synchronous reset (two cycles).
    pub fn reset(&mut self) -> Result<()> {
        self.set(self.ports.reset, 1)?;
        self.model.tick();
        self.model.tick();
        self.set(self.ports.reset, 0)
    }

    fn set(&mut self, id: PortId, v: u64) -> Result<()> {
        self.model.set_field(id, 0, v)
    }

    fn set_lane(&mut self, id: PortId, lane: usize, v: u64) -> Result<()> {
        self.model.set_field(id, lane, v)
    }

    /// Start writing a VCD of everything that follows (until [`AccelDevice::trace_close`]).
    pub fn trace_to(&mut self, path: &Path) -> Result<()> {
        self.model.trace_to(path)
    }

    /// Close the VCD trace.
    pub fn trace_close(&mut self) {
        self.model.trace_close();
    }

    /// Trace cycles `start..end` (counted from `start` of the next layer) into a VCD at `path`.
    pub fn trace_window(&mut self, path: &Path, start: u64, end: u64) {
        self.window = Some((path.to_path_buf(), start, end));
    }

    /// Write bytes into the activation buffer at `base` (one per cycle); returns the cycles.
    pub fn write_activations(&mut self, base: usize, data: &[i8]) -> Result<u64> {
        self.set(self.ports.act_we, 1)?;
        for (i, &v) in data.iter().enumerate() {
            self.set(self.ports.act_waddr, (base + i) as u64)?;
            self.set(self.ports.act_wdata, v as u8 as u64)?;
            self.model.tick();
        }
        self.set(self.ports.act_we, 0)?;
        Ok(data.len() as u64)
    }

    /// Read `n` bytes of the activation buffer from `base` (one per cycle).
    pub fn read_activations(&mut self, base: usize, n: usize) -> Result<Vec<i8>> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            self.set(self.ports.act_raddr, (base + i) as u64)?;
            self.model.tick();
            out.push(self.model.get_field(self.ports.act_rdata, 0)? as u8 as i8);
        }
        Ok(out)
    }

    /// Program the layer (registers, parameters, streams), start it and run it to `done` with
    /// the weights served from `dram_words` by a memory with `dram`. The input must already be
    /// at `in_base`; the output is left at `out_base`.
    pub fn run_layer(
        &mut self,
        job: &LayerJob,
        dram_words: &[u64],
        dram: DramConfig,
        in_base: usize,
        out_base: usize,
    ) -> Result<LayerRun> {
        let (p, d) = (self.lanes.mac(), self.lanes.dec());
        let regs = layer_registers(job, p, in_base, out_base, &self.sizes)?;
        if job.lanes.len() > d {
            bail!(
                "layer {}: {} lane streams for {d} decompressor lanes",
                job.name,
                job.lanes.len()
            );
        }
        for (name, v) in regs {
            let id = self.model.port(name)?;
            self.set(id, v)?;
        }
        let cfg = cfg_values(&job.codec)?;
        for (id, v) in self.ports.cfg.clone().into_iter().zip(cfg) {
            self.set(id, v)?;
        }
        // Parameter memory, one channel per cycle.
        let mut run = LayerRun::default();
        self.set(self.ports.prm_we, 1)?;
        for (o, cp) in job.params.iter().enumerate() {
            self.set(self.ports.prm_addr, o as u64)?;
            let vals = [
                cp.bias as u32 as u64,
                cp.mult as u16 as u64,
                cp.shift as u64,
                cp.nmult as u16 as u64,
                cp.nshift as u64,
            ];
            for (i, v) in vals.into_iter().enumerate() {
                self.set(self.ports.prm[i], v)?;
            }
            self.model.tick();
            run.io_cycles += 1;
        }
        self.set(self.ports.prm_we, 0)?;
        // Lane streams (per decompressor lane) and channel counts (per MAC lane).
        let o = job.geom.out_c;
        let mut ranges = Vec::with_capacity(d);
        for l in 0..d {
            let (length, count, range) = match job.lanes.get(l) {
                Some(s) => (s.length_bits, s.count, (s.first_word, s.words())),
                None => (0, 0, (0, 0)),
            };
            let channels = self.lanes.dec_channels(l, o);
            if count != (channels * job.geom.k_len()) as u64 {
                bail!(
                    "layer {}: lane {l} holds {count} weights, the datapath needs {} x {}",
                    job.name,
                    channels,
                    job.geom.k_len()
                );
            }
            self.set_lane(self.ports.length_bits, l, length)?;
            self.set_lane(self.ports.count, l, count)?;
            ranges.push(range);
            run.weights += count;
        }
        for m in 0..p {
            let channels = self.lanes.mac_channels(m, o) as u64;
            self.set_lane(self.ports.lane_channels, m, channels)?;
        }
        let window = self.window.take();
        let result = match &self.weights {
            WeightPort::Words(_) => {
                self.run_from_dram(job, dram_words, dram, &ranges, window.as_ref())
            }
            WeightPort::Flash(_) => self.run_from_flash(job, window.as_ref()),
        };
        if window.is_some() {
            self.model.trace_close();
        }
        let memory = result?;
        run.cycles = memory.cycles;
        run.dram_bytes = memory.dram_bytes;
        run.flash_bytes = memory.flash_bytes;
        run.flash_commands = memory.flash_commands;
        Ok(run)
    }

    /// Start the programmed layer and run it to `done` with the weights from the DRAM model.
    fn run_from_dram(
        &mut self,
        job: &LayerJob,
        dram_words: &[u64],
        dram: DramConfig,
        ranges: &[(usize, usize)],
        window: Option<&(PathBuf, u64, u64)>,
    ) -> Result<LayerRun> {
        let WeightPort::Words(ports) = &self.weights else {
            bail!("the device has no memory word ports");
        };
        let (in_data, in_valid, in_last, in_ready) =
            (ports.in_data, ports.in_valid, ports.in_last, ports.in_ready);
        let d = self.lanes.dec();
        for l in 0..d {
            self.set_lane(in_valid, l, 0)?;
        }
        let mut mem = Dram::new(dram, self.word_bits, dram_words, ranges)?;
        let words: u64 = job.lanes.iter().map(|s| s.words() as u64).sum();
        let word_bytes = self.word_bits as f64 / 8.0;
        let memory_cycles =
            (words as f64 * word_bytes * dram.traffic_scale / dram.bytes_per_cycle).ceil() as u64;
        let budget = self.cycle_budget(job, memory_cycles + dram.latency as u64 * (words + 1));
        self.start()?;
        let mut presented = vec![None; d];
        let mut shown = vec![false; d];
        let mut cycle = 0u64;
        loop {
            if self.layer_ended(job, cycle, window)? {
                break;
            }
            mem.step(cycle, &mut presented);
            // A presented word is the lane's last when it is the only one left to take.
            let last: Vec<bool> = (0..d).map(|l| mem.remaining(l) == 1).collect();
            for (l, w) in presented.iter().enumerate() {
                if w.is_some() && self.model.get_field(in_ready, l)? == 1 {
                    mem.take(l);
                }
            }
            for (l, w) in presented.iter().enumerate() {
                if let Some(word) = w {
                    self.set_lane(in_data, l, *word)?;
                    if let Some(port) = in_last {
                        self.set_lane(port, l, last[l] as u64)?;
                    }
                }
                if shown[l] != w.is_some() {
                    self.set_lane(in_valid, l, w.is_some() as u64)?;
                    shown[l] = w.is_some();
                }
            }
            self.model.tick();
            cycle += 1;
            self.check_budget(job, cycle, budget)?;
        }
        for l in 0..d {
            self.set_lane(in_valid, l, 0)?;
            if mem.remaining(l) != 0 {
                bail!(
                    "layer {}: lane {l} left {} words of its stream unread",
                    job.name,
                    mem.remaining(l)
                );
            }
        }
        Ok(LayerRun {
            cycles: cycle,
            dram_bytes: mem.bytes(),
            ..Default::default()
        })
    }

    /// Start the programmed layer and run it to `done`: the host offers the flash reader one
    /// request (the lane stream) and the flash model follows the reader's pins every clock.
    fn run_from_flash(
        &mut self,
        job: &LayerJob,
        window: Option<&(PathBuf, u64, u64)>,
    ) -> Result<LayerRun> {
        let WeightPort::Flash(side) = &self.weights else {
            bail!("the device has no flash");
        };
        let [lane] = job.lanes.as_slice() else {
            bail!(
                "layer {}: {} lane streams; the flash feeds one decompressor lane",
                job.name,
                job.lanes.len()
            );
        };
        let request = side.store.request(lane);
        let narrow = side.store.narrow();
        let commands_before = side.store.flash.commands().len();
        let (req_valid, req_ready) = (side.req_valid, side.req_ready);
        let (req_addr, req_words) = (side.req_addr, side.req_words);
        let pins = [side.cs_n, side.sck, side.io_out, side.io_oe];
        let io_in = side.io_in;
        match side.narrow {
            Some(port) => self.set(port, narrow as u64)?,
            None if narrow => bail!("the flash top of 32-bit lanes has no FP32 storage mode"),
            None => {}
        }
        self.set(req_addr, request.addr)?;
        self.set(req_words, request.words)?;
        // 4 bits per SCK clock, SCK at half the clock: 16 clocks per 32-bit flash word.
        let budget = self.cycle_budget(job, 16 * request.words + 2 * PREAMBLE_CLOCKS);
        // The reader is idle (its pins static): the flash need not see the start clock.
        self.start()?;
        self.set(req_valid, 1)?;
        let mut offered = true;
        let mut cycle = 0u64;
        loop {
            if self.layer_ended(job, cycle, window)? {
                break;
            }
            // The reader's pins and `req_ready` come from flip-flops: settled after the clock.
            let taken = offered && self.model.get_field(req_ready, 0)? == 1;
            self.step_flash(job, pins, io_in)?;
            self.model.tick();
            cycle += 1;
            if taken {
                offered = false;
                self.set(req_valid, 0)?;
            }
            self.check_budget(job, cycle, budget)?;
        }
        if offered {
            bail!(
                "layer {}: done before the flash reader took its request",
                job.name
            );
        }
        if self.model.get_field(pins[0], 0)? == 0 {
            bail!(
                "layer {}: the flash reader is still reading after done",
                job.name
            );
        }
        // The flash sees CS# of the last clock (a command that just ended counts).
        self.step_flash(job, pins, io_in)?;
        let WeightPort::Flash(side) = &self.weights else {
            bail!("the device has no flash");
        };
        let commands = side.store.flash.commands().len() - commands_before;
        if commands != 1 {
            bail!(
                "layer {}: the flash saw {commands} read commands, expected one",
                job.name
            );
        }
        Ok(LayerRun {
            cycles: cycle,
            flash_bytes: 4.0 * request.words as f64,
            flash_commands: commands as u64,
            ..Default::default()
        })
    }

    /// The flash follows the reader's pins (`cs_n`, `sck`, `io_out`, `io_oe`) of this cycle and
    /// the reader sees the bus on `io_in`.
    fn step_flash(&mut self, job: &LayerJob, pins: [PortId; 4], io_in: PortId) -> Result<()> {
        let [cs_n, sck, io_out, io_oe] = pins.map(|p| self.model.get_field(p, 0));
        let pins = FlashPins {
            cs_n: cs_n? == 1,
            sck: sck? == 1,
            io_out: io_out? as u8,
            io_oe: io_oe? as u8,
        };
        let WeightPort::Flash(side) = &mut self.weights else {
            bail!("the device has no flash");
        };
        side.store
            .flash
            .step(&pins)
            .map_err(|e| anyhow!("layer {}: flash: {e}", job.name))?;
        let bus = side.store.flash.bus(&pins) as u64;
        self.set(io_in, bus)
    }

    /// Pulse `start`.
    fn start(&mut self) -> Result<()> {
        self.set(self.ports.start, 1)?;
        self.model.tick();
        self.set(self.ports.start, 0)
    }

    /// At datapath cycle `cycle` of a started layer: open or close the trace window, and tell
    /// whether `done` is up; fails when the error flag is.
    fn layer_ended(
        &mut self,
        job: &LayerJob,
        cycle: u64,
        window: Option<&(PathBuf, u64, u64)>,
    ) -> Result<bool> {
        if let Some((path, start, end)) = window {
            if cycle == *start {
                self.model.trace_to(path)?;
            }
            if cycle == *end {
                self.model.trace_close();
            }
        }
        // `done`, `error` and `in_ready` come from flip-flops only (no combinational path from
        // the memory inputs), so they are read from the settled state after the last clock.
        if self.model.get_field(self.ports.done, 0)? == 1 {
            return Ok(true);
        }
        if self.model.get_field(self.ports.error, 0)? == 1 {
            let d = self.lanes.dec();
            let lanes: Vec<usize> = (0..d)
                .filter(|&l| self.model.get_field(self.ports.dec_error, l).unwrap_or(0) == 1)
                .collect();
            bail!(
                "layer {}: the datapath raised its error flag after {cycle} cycles \
                 (decompressor lanes in error: {lanes:?})",
                job.name
            );
        }
        Ok(false)
    }

    /// Fail when a layer runs past its cycle budget.
    fn check_budget(&self, job: &LayerJob, cycle: u64, budget: u64) -> Result<()> {
        if cycle > budget {
            bail!(
                "layer {}: no done flag after {cycle} cycles (hung)",
                job.name
            );
        }
        Ok(())
    }

    /// Cycles no correct run can exceed, given the cycles the memory needs for the streams.
    fn cycle_budget(&self, job: &LayerJob, memory: u64) -> u64 {
        let g = &job.geom;
        let p = self.lanes.mac();
        let compute = (g.groups(p) * g.out_plane() * (g.k_len() + p + 4)) as u64;
        let weights: u64 = job.lanes.iter().map(|s| s.count).sum();
        10_000 + 4 * (compute + memory + weights)
    }

    /// The underlying model (for port-level access in tests).
    pub fn model_mut(&mut self) -> &mut Model {
        &mut self.model
    }

    /// Read a shared output port by name.
    pub fn read_port(&mut self, name: &str) -> Result<u64> {
        let id = self.model.port(name).map_err(|e| anyhow!("{e}"))?;
        self.model.get_field(id, 0)
    }
}
