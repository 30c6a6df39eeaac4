//! What the host programs for one Conv or Dense layer: the geometry, the per-channel
//! requantization parameters, the activation bounds and the lane streams, and how these map to
//! the layer registers of the datapath.

use anyhow::{bail, Result};
use lc_hw::accel::emit::AccelSizes;
use lc_sw::codec::LayerParams;
use lc_sw::model::golden::{Act, QWeighted};
use lc_sw::model::graph::Window;

/// Geometry of a layer as the address generator sees it (a dense layer is 1 x 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Input channels C.
    pub in_c: usize,
    /// Input height.
    pub in_h: usize,
    /// Input width.
    pub in_w: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Vertical stride.
    pub stride_h: usize,
    /// Horizontal stride.
    pub stride_w: usize,
    /// Padding above.
    pub pad_t: usize,
    /// Padding on the left.
    pub pad_l: usize,
    /// Output height.
    pub out_h: usize,
    /// Output width.
    pub out_w: usize,
    /// Output channels O.
    pub out_c: usize,
}

impl Geometry {
    /// A dense layer with `inputs` inputs and `outputs` outputs.
    pub fn dense(inputs: usize, outputs: usize) -> Self {
        Geometry {
            in_c: inputs,
            in_h: 1,
            in_w: 1,
            kh: 1,
            kw: 1,
            stride_h: 1,
            stride_w: 1,
            pad_t: 0,
            pad_l: 0,
            out_h: 1,
            out_w: 1,
            out_c: outputs,
        }
    }

    /// One group of a convolution (dilation 1) on a `[C, h, w]` input: `C / groups` input
    /// channels, `out_c` output channels.
    pub fn conv(in_shape: &[usize], window: &Window, groups: usize, out_c: usize) -> Result<Self> {
        let [c, h, w] = in_shape else {
            bail!("convolution input shape {in_shape:?} is not [C, H, W]");
        };
        if groups == 0 || c % groups != 0 {
            bail!("{c} input channels do not split into {groups} groups");
        }
        let in_c = c / groups;
        if window.dilation.iter().any(|&d| d > 1) {
            bail!("dilated convolution is not supported by the datapath");
        }
        let res = window
            .resolve([*h, *w])
            .ok_or_else(|| anyhow::anyhow!("the window does not fit the {h}x{w} input"))?;
        Ok(Geometry {
            in_c,
            in_h: *h,
            in_w: *w,
            kh: window.kernel[0],
            kw: window.kernel[1],
            stride_h: window.stride[0].max(1),
            stride_w: window.stride[1].max(1),
            pad_t: res.pad_begin[0],
            pad_l: res.pad_begin[1],
            out_h: res.out_hw[0],
            out_w: res.out_hw[1],
            out_c,
        })
    }

    /// Weights per output channel, K = C * KH * KW.
    pub fn k_len(&self) -> usize {
        self.in_c * self.kh * self.kw
    }

    /// Input bytes.
    pub fn in_len(&self) -> usize {
        self.in_c * self.in_h * self.in_w
    }

    /// Output positions per channel.
    pub fn out_plane(&self) -> usize {
        self.out_h * self.out_w
    }

    /// Output bytes.
    pub fn out_len(&self) -> usize {
        self.out_c * self.out_plane()
    }

    /// Channel groups for `lanes` lanes.
    pub fn groups(&self, lanes: usize) -> usize {
        self.out_c.div_ceil(lanes)
    }

    /// Useful multiply-accumulates.
    pub fn macs(&self) -> u64 {
        (self.out_len() * self.k_len()) as u64
    }
}

/// Requantization parameters of one output channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelParams {
    /// int32 bias.
    pub bias: i32,
    /// Multiplier (int16).
    pub mult: i32,
    /// Shift.
    pub shift: u32,
    /// Multiplier for negative accumulators (PReLU; equal to `mult` otherwise).
    pub nmult: i32,
    /// Shift for negative accumulators.
    pub nshift: u32,
}

/// The per-channel parameters, bounds and PReLU flag of a golden-model layer.
pub fn channel_params(l: &QWeighted) -> Result<(Vec<ChannelParams>, bool)> {
    let o = l.dims.first().copied().unwrap_or(0);
    if l.bias.len() != o || l.requant.len() != o {
        bail!(
            "{o} channels but {} biases and {} multipliers",
            l.bias.len(),
            l.requant.len()
        );
    }
    let neg = match &l.act {
        Act::PRelu(n) if n.len() == o => Some(n),
        Act::PRelu(n) => bail!("{} PReLU multipliers for {o} channels", n.len()),
        Act::Clamp => None,
    };
    let mut out = Vec::with_capacity(o);
    for c in 0..o {
        let r = l.requant[c];
        let n = neg.map_or(r, |n| n[c]);
        for q in [r, n] {
            if q.mult.abs() >= 1 << 15 || !(1..=46).contains(&q.shift) {
                bail!(
                    "channel {c}: multiplier {} / shift {} outside the datapath",
                    q.mult,
                    q.shift
                );
            }
        }
        out.push(ChannelParams {
            bias: l.bias[c],
            mult: r.mult,
            shift: r.shift,
            nmult: n.mult,
            nshift: n.shift,
        });
    }
    Ok((out, neg.is_some()))
}

/// One lane's weight stream in the DRAM image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneStreamRef {
    /// First word in the DRAM image.
    pub first_word: usize,
    /// Exact stream length in bits.
    pub length_bits: u64,
    /// Weights in the stream.
    pub count: u64,
    /// Width of a memory word.
    pub word_bits: usize,
}

impl LaneStreamRef {
    /// Words the stream occupies.
    pub fn words(&self) -> usize {
        self.length_bits.div_ceil(self.word_bits as u64) as usize
    }
}

/// Everything the host programs for one layer.
#[derive(Clone, Debug)]
pub struct LayerJob {
    /// Layer name (for reports).
    pub name: String,
    /// Geometry.
    pub geom: Geometry,
    /// Per output channel.
    pub params: Vec<ChannelParams>,
    /// Lower clamp bound.
    pub lo: i32,
    /// Upper clamp bound.
    pub hi: i32,
    /// Fused PReLU.
    pub prelu: bool,
    /// Codec parameters of the weight streams.
    pub codec: LayerParams,
    /// One stream per lane of the container layer (at most P).
    pub lanes: Vec<LaneStreamRef>,
}

/// Values of the layer registers for a P-lane datapath with buffers of `sizes` (port name, value).
pub fn layer_registers(
    job: &LayerJob,
    lanes: usize,
    in_base: usize,
    out_base: usize,
    sizes: &AccelSizes,
) -> Result<Vec<(&'static str, u64)>> {
    let g = &job.geom;
    check_fits(job, lanes, in_base, out_base, sizes)?;
    let m16 = |v: i64| (v as u64) & 0xffff;
    let regs = vec![
        ("lay_in_c", g.in_c as u64),
        ("lay_in_h", g.in_h as u64),
        ("lay_in_w", g.in_w as u64),
        ("lay_kh", g.kh as u64),
        ("lay_kw", g.kw as u64),
        ("lay_stride_h", g.stride_h as u64),
        ("lay_stride_w", g.stride_w as u64),
        ("lay_out_h", g.out_h as u64),
        ("lay_out_w", g.out_w as u64),
        ("lay_out_c", g.out_c as u64),
        ("lay_k_len", g.k_len() as u64),
        ("lay_groups", g.groups(lanes) as u64),
        ("lay_plane", (g.in_h * g.in_w) as u64),
        ("lay_ix0", m16(-(g.pad_l as i64))),
        ("lay_iy0", m16(-(g.pad_t as i64))),
        ("lay_row0", m16(in_base as i64 - (g.pad_t * g.in_w) as i64)),
        ("lay_row_step", (g.stride_h * g.in_w) as u64),
        ("lay_out_base", out_base as u64),
        ("lay_out_plane", g.out_plane() as u64),
        ("lay_grp_step", (lanes * g.out_plane()) as u64),
        ("lay_lo", (job.lo as i64 as u64) & 0xff),
        ("lay_hi", (job.hi as i64 as u64) & 0xff),
        ("lay_prelu", job.prelu as u64),
    ];
    Ok(regs)
}

/// Refuse layers that do not fit the registers and buffers (`sizes`) of the emitted design.
pub fn check_fits(
    job: &LayerJob,
    lanes: usize,
    in_base: usize,
    out_base: usize,
    sizes: &AccelSizes,
) -> Result<()> {
    let g = &job.geom;
    let name = &job.name;
    if g.k_len() == 0 || g.out_c == 0 || g.out_plane() == 0 || g.stride_h == 0 || g.stride_w == 0 {
        bail!("layer {name}: empty geometry {g:?}");
    }
    if g.k_len() > sizes.bank_weights {
        bail!(
            "layer {name}: {} weights per channel exceed the {}-weight bank",
            g.k_len(),
            sizes.bank_weights
        );
    }
    if g.out_c > sizes.channels {
        bail!(
            "layer {name}: {} channels exceed the parameter memory ({})",
            g.out_c,
            sizes.channels
        );
    }
    if in_base + g.in_len() > sizes.act_bytes || out_base + g.out_len() > sizes.act_bytes {
        bail!(
            "layer {name}: input ({} B) and output ({} B) exceed the {}-byte activation buffer",
            g.in_len(),
            g.out_len(),
            sizes.act_bytes
        );
    }
    if g.kh > 255
        || g.kw > 255
        || g.stride_h > 255
        || g.stride_w > 255
        || g.in_h >= 1 << 15
        || g.in_w >= 1 << 15
    {
        bail!("layer {name}: kernel, stride or input size outside the registers");
    }
    if !(-128..=127).contains(&job.lo) || !(-128..=127).contains(&job.hi) || job.lo > job.hi {
        bail!(
            "layer {name}: clamp bounds [{}, {}] are not int8",
            job.lo,
            job.hi
        );
    }
    if job.codec.bits > 8 {
        bail!(
            "layer {name}: {}-bit weights; the MAC lanes take at most 8 bits",
            job.codec.bits
        );
    }
    if job.lanes.len() > lanes || job.params.len() != g.out_c {
        bail!("layer {name}: {} lane streams / {} channel parameters for {lanes} lanes and {} channels",
            job.lanes.len(), job.params.len(), g.out_c);
    }
    Ok(())
}
