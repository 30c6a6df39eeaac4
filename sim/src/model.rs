//! Verilator models of the decompressor, compiled into this crate by `build.rs`.
//!
//! Each [`Model`] owns its own `VerilatedContext`, so models in different threads are independent.
//! Ports are addressed by name (resolved once to a [`PortId`]); values wider than 64 bits are
//! exchanged as [`BigUint`], and per-lane fields of a lane bus as `u64`.

use crate::dut::{CfgValues, Dut, Pin};
use anyhow::{anyhow, bail, Context, Result};
use lc_hw::config::CFG_PORTS;
use lc_hw::emit::{Manifest, Port, PortDirection};
use num_bigint::BigUint;
use std::ffi::{c_char, c_void, CString};
use std::path::{Path, PathBuf};

type Handle = *mut c_void;

/// The C entry points of one compiled model.
#[derive(Clone, Copy)]
pub(crate) struct ModelVTable {
    new: unsafe extern "C" fn() -> Handle,
    delete: unsafe extern "C" fn(Handle),
    eval: unsafe extern "C" fn(Handle),
    tick: unsafe extern "C" fn(Handle),
    set: unsafe extern "C" fn(Handle, u32, *const u32) -> i32,
    get: unsafe extern "C" fn(Handle, u32, *mut u32) -> i32,
    trace_open: unsafe extern "C" fn(Handle, *const c_char) -> i32,
    trace_close: unsafe extern "C" fn(Handle),
}

/// A compiled model: its top, manifest and entry points.
pub(crate) struct ModelEntry {
    top: &'static str,
    manifest_json: &'static str,
    verilog_path: &'static str,
    vtable: ModelVTable,
}

include!(concat!(env!("OUT_DIR"), "/verilator_models.rs"));

/// Names of the compiled models' top modules.
pub fn available_models() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.top).collect()
}

/// Index of a port in a model's manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortId(usize);

/// One Verilator model instance.
pub struct Model {
    handle: Handle,
    vtable: ModelVTable,
    manifest: Manifest,
    verilog: PathBuf,
    /// Current value of every input port, as 32-bit words.
    inputs: Vec<Vec<u32>>,
    dirty: Vec<bool>,
    any_dirty: bool,
    /// Values read since the last evaluation, per port.
    cache: Vec<Vec<u32>>,
    cached: Vec<bool>,
    pins: Vec<Option<PortId>>,
    cycle: u64,
    tracing: bool,
}

// The model is only reached through `&mut self`; the C++ object has no thread affinity.
unsafe impl Send for Model {}

impl Model {
    /// A fresh instance of the model whose top module is `top` (see [`available_models`]).
    pub fn new(top: &str) -> Result<Self> {
        let entry = MODELS.iter().find(|m| m.top == top).ok_or_else(|| {
            anyhow!(
                "no Verilator model `{top}`; built models: {:?}",
                available_models()
            )
        })?;
        let manifest: Manifest =
            serde_json::from_str(entry.manifest_json).context("parsing the port manifest")?;
        // SAFETY: `new` has no preconditions and returns an owned object released in `Drop`.
        let handle = unsafe { (entry.vtable.new)() };
        if handle.is_null() {
            bail!("creating the Verilator model {top} failed");
        }
        let inputs = manifest
            .ports
            .iter()
            .map(|p| vec![0u32; words(p.width)])
            .collect();
        let n = manifest.ports.len();
        let mut model = Model {
            handle,
            vtable: entry.vtable,
            verilog: PathBuf::from(entry.verilog_path),
            inputs,
            dirty: vec![false; n],
            any_dirty: false,
            cache: manifest
                .ports
                .iter()
                .map(|p| vec![0u32; words(p.width)])
                .collect(),
            cached: vec![false; n],
            pins: Vec::new(),
            cycle: 0,
            tracing: false,
            manifest,
        };
        model.pins = Pin::ALL
            .iter()
            .map(|pin| model.port(pin.name()).ok())
            .collect();
        Ok(model)
    }

    /// The model of the N-lane decompressor (full profile).
    pub fn decompressor(lanes: usize) -> Result<Self> {
        Self::new(&lc_hw::emit::top_name(lanes))
    }

    /// The model of the N-lane decompressor generated for `profile`.
    pub fn decompressor_for(profile: &lc_format::Profile, lanes: usize) -> Result<Self> {
        Self::new(&lc_hw::emit::top_name_for(profile, lanes))
    }

    /// The port manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The Verilog the model was built from.
    pub fn verilog_path(&self) -> &Path {
        &self.verilog
    }

    /// Resolve a port name.
    pub fn port(&self, name: &str) -> Result<PortId> {
        self.manifest
            .ports
            .iter()
            .position(|p| p.name == name)
            .map(PortId)
            .ok_or_else(|| anyhow!("{} has no port `{name}`", self.manifest.top))
    }

    fn info(&self, id: PortId) -> &Port {
        &self.manifest.ports[id.0]
    }

    /// Set a whole input port.
    pub fn set(&mut self, id: PortId, value: &BigUint) -> Result<()> {
        let p = self.info(id);
        if p.direction != PortDirection::Input {
            bail!("port {} is an output", p.name);
        }
        if value.bits() > p.width as u64 {
            bail!(
                "value {value} does not fit the {}-bit port {}",
                p.width,
                p.name
            );
        }
        let digits = value.to_u32_digits();
        let slot = &mut self.inputs[id.0];
        slot.iter_mut().for_each(|w| *w = 0);
        slot[..digits.len()].copy_from_slice(&digits);
        self.mark(id);
        Ok(())
    }

    /// Read a whole port.
    pub fn get(&mut self, id: PortId) -> BigUint {
        BigUint::from_slice(self.fetch(id))
    }

    /// The current value of a port as 32-bit words, read once per evaluation.
    fn fetch(&mut self, id: PortId) -> &[u32] {
        self.flush();
        if !self.cached[id.0] {
            // SAFETY: the cache slot holds ceil(width / 32) words of this port.
            unsafe { (self.vtable.get)(self.handle, id.0 as u32, self.cache[id.0].as_mut_ptr()) };
            self.cached[id.0] = true;
        }
        &self.cache[id.0]
    }

    /// Set lane `lane`'s field of a per-lane input bus (or the whole port if it is shared).
    pub fn set_field(&mut self, id: PortId, lane: usize, value: u64) -> Result<()> {
        let (offset, width) = self.field(id, lane)?;
        if self.info(id).direction != PortDirection::Input {
            bail!("port {} is an output", self.info(id).name);
        }
        if width < 64 && value >> width != 0 {
            bail!(
                "value {value} does not fit the {width}-bit field of {}",
                self.info(id).name
            );
        }
        let slot = &mut self.inputs[id.0];
        let mut changed = false;
        for i in 0..width {
            let bit = (value >> i) & 1 == 1;
            let (w, b) = ((offset + i) / 32, (offset + i) % 32);
            let old = slot[w] >> b & 1 == 1;
            if old != bit {
                slot[w] ^= 1 << b;
                changed = true;
            }
        }
        if changed {
            self.mark(id);
        }
        Ok(())
    }

    /// Read lane `lane`'s field of a per-lane bus (or the whole port if it is shared).
    pub fn get_field(&mut self, id: PortId, lane: usize) -> Result<u64> {
        let (offset, width) = self.field(id, lane)?;
        let value = self.fetch(id);
        let mut v = 0u64;
        let mut done = 0;
        while done < width {
            let (w, b) = ((offset + done) / 32, (offset + done) % 32);
            let take = (32 - b).min(width - done);
            let chunk = (value[w] as u64 >> b) & ((1u64 << take) - 1);
            v |= chunk << done;
            done += take;
        }
        Ok(v)
    }

    fn field(&self, id: PortId, lane: usize) -> Result<(usize, usize)> {
        let p = self.info(id);
        match p.lane_width {
            // Per-lane buses may have different lane counts (decompressor and MAC lanes).
            Some(w) if (lane + 1) * w <= p.width => Ok((lane * w, w)),
            Some(_) => bail!("lane {lane} out of range for {}", p.name),
            None if p.width <= 64 => Ok((0, p.width)),
            None => bail!("port {} is {} bits wide: use set/get", p.name, p.width),
        }
    }

    fn mark(&mut self, id: PortId) {
        self.dirty[id.0] = true;
        self.any_dirty = true;
    }

    fn flush(&mut self) {
        if !self.any_dirty {
            return;
        }
        for (i, d) in self.dirty.iter_mut().enumerate() {
            if *d {
                // SAFETY: the buffer holds ceil(width / 32) words of port `i`.
                unsafe { (self.vtable.set)(self.handle, i as u32, self.inputs[i].as_ptr()) };
                *d = false;
            }
        }
        self.any_dirty = false;
        // SAFETY: handle is live.
        unsafe { (self.vtable.eval)(self.handle) };
        self.cached.iter_mut().for_each(|c| *c = false);
    }

    /// Settle the combinational logic after input changes.
    pub fn eval(&mut self) {
        self.flush();
    }

    /// One clock cycle (rising then falling edge).
    pub fn tick(&mut self) {
        self.flush();
        // SAFETY: handle is live.
        unsafe { (self.vtable.tick)(self.handle) };
        self.cached.iter_mut().for_each(|c| *c = false);
        self.cycle += 1;
    }

    /// Clock cycles since the model was created.
    pub fn cycle(&self) -> u64 {
        self.cycle
    }

    /// Start writing a VCD trace to `path` (replacing any open trace).
    pub fn trace_to(&mut self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let c = CString::new(path.as_os_str().as_encoded_bytes())?;
        // SAFETY: handle is live and `c` is a NUL-terminated path.
        let rc = unsafe { (self.vtable.trace_open)(self.handle, c.as_ptr()) };
        if rc != 0 {
            bail!("cannot open VCD file {}", path.display());
        }
        self.tracing = true;
        Ok(())
    }

    /// Close the VCD trace, if any.
    pub fn trace_close(&mut self) {
        if self.tracing {
            // SAFETY: handle is live.
            unsafe { (self.vtable.trace_close)(self.handle) };
            self.tracing = false;
        }
    }
}

impl Drop for Model {
    fn drop(&mut self) {
        // SAFETY: the handle came from `new` and is released exactly once.
        unsafe { (self.vtable.delete)(self.handle) };
    }
}

impl Dut for Model {
    fn lanes(&self) -> usize {
        self.manifest.lanes
    }

    fn set_cfg(&mut self, values: &CfgValues) -> Result<()> {
        for (port, v) in CFG_PORTS.iter().zip(values) {
            let id = self.port(port.name)?;
            self.set_field(id, 0, *v)?;
        }
        Ok(())
    }

    fn has_pin(&self, pin: Pin) -> bool {
        self.pins[pin as usize].is_some()
    }

    fn set_pin(&mut self, pin: Pin, lane: usize, value: u64) -> Result<()> {
        let id = self.pins[pin as usize].ok_or_else(|| anyhow!("model lacks pin {pin:?}"))?;
        self.set_field(id, lane, value)
    }

    fn get_pin(&mut self, pin: Pin, lane: usize) -> Result<u64> {
        let id = self.pins[pin as usize].ok_or_else(|| anyhow!("model lacks pin {pin:?}"))?;
        self.get_field(id, lane)
    }

    fn settle(&mut self) -> Result<()> {
        self.eval();
        Ok(())
    }

    fn tick(&mut self) -> Result<()> {
        Model::tick(self);
        Ok(())
    }
}

fn words(width: usize) -> usize {
    width.div_ceil(32).max(1)
}
