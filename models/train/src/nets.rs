//! The architectures, described once as a layer tree used both for the forward pass and for the
//! ONNX export.

use anyhow::Result;
use candle_core::{Module, ModuleT, Tensor};
use candle_nn::{
    batch_norm, conv2d, conv2d_no_bias, linear, BatchNorm, Conv2d, Conv2dConfig, Linear, VarBuilder,
};

/// Which network.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Arch {
    /// LeNet-5: conv5x5(6) pool conv5x5(16) pool fc120 fc84 fc10 (61,706 parameters).
    Lenet5,
    /// VGG-style: conv3x3(24) pool conv3x3(48) pool conv3x3(96) pool fc576 fc10 (556,234 parameters).
    VggSmall,
    /// Small ResNet: conv3x3(16) stem, three stages of two residual blocks (16, 32, 64 channels,
    /// stride 2 with 1x1 projection shortcuts from the second stage on), global average pool,
    /// fc10; batch normalization after every convolution.
    Resnet,
    /// MobileNet-style: conv3x3(16, stride 2) stem, five depthwise-separable blocks (depthwise 3x3
    /// + pointwise 1x1, batch normalization and ReLU6 after each; 32, 64, 64, 128, 128 channels,
    /// stride 2 in the second and fourth), global average pool, fc10.
    Mobilenet,
}

/// Activation after a convolution or dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    /// None.
    Linear,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`.
    Relu6,
}

impl Act {
    fn apply(self, x: Tensor) -> Result<Tensor> {
        Ok(match self {
            Act::Linear => x,
            Act::Relu => x.relu()?,
            Act::Relu6 => x.clamp(0f32, 6f32)?,
        })
    }
}

/// A convolution as the export needs to see it.
pub struct ConvSpec {
    /// Node name (and variable prefix).
    pub name: String,
    /// Kernel size.
    pub k: usize,
    /// Padding on every side.
    pub pad: usize,
    /// Stride.
    pub stride: usize,
    /// Groups (1 = dense, input channels = depthwise).
    pub groups: usize,
}

/// One layer of the network.
pub enum Layer {
    /// Convolution (with a bias, or followed by batch normalization) and an activation.
    Conv {
        spec: ConvSpec,
        conv: Conv2d,
        bn: Option<BatchNorm>,
        act: Act,
    },
    /// 2x2 max pooling, stride 2.
    Pool,
    /// Mean over each channel's plane, `[N, C, H, W]` to `[N, C, 1, 1]`.
    GlobalAvgPool,
    /// Flatten `[N, C, H, W]` to `[N, C*H*W]`.
    Flatten,
    /// Fully connected, optionally followed by ReLU (and dropout while training).
    Dense {
        name: String,
        lin: Linear,
        relu: bool,
    },
    /// `relu(body(x) + shortcut(x))`; an empty shortcut is the identity.
    Residual {
        name: String,
        body: Vec<Layer>,
        shortcut: Vec<Layer>,
    },
}

/// A CNN as a layer tree.
pub struct Net {
    pub layers: Vec<Layer>,
}

/// Builds layers from one variable store.
struct Maker<'a> {
    vb: &'a VarBuilder<'a>,
}

impl Maker<'_> {
    /// Convolution with bias and ReLU (LeNet-5, VGG-small).
    fn conv_relu(&self, name: &str, i: usize, o: usize, k: usize, pad: usize) -> Result<Layer> {
        let cfg = Conv2dConfig {
            padding: pad,
            ..Default::default()
        };
        Ok(Layer::Conv {
            spec: ConvSpec {
                name: name.into(),
                k,
                pad,
                stride: 1,
                groups: 1,
            },
            conv: conv2d(i, o, k, cfg, self.vb.pp(name))?,
            bn: None,
            act: Act::Relu,
        })
    }

    /// Convolution without bias, batch normalization, activation; padding keeps the size
    /// (divided by the stride).
    #[allow(clippy::too_many_arguments)]
    fn conv_bn(
        &self,
        name: &str,
        i: usize,
        o: usize,
        k: usize,
        stride: usize,
        groups: usize,
        act: Act,
    ) -> Result<Layer> {
        let pad = k / 2;
        let cfg = Conv2dConfig {
            padding: pad,
            stride,
            groups,
            ..Default::default()
        };
        Ok(Layer::Conv {
            spec: ConvSpec {
                name: name.into(),
                k,
                pad,
                stride,
                groups,
            },
            conv: conv2d_no_bias(i, o, k, cfg, self.vb.pp(name))?,
            bn: Some(batch_norm(o, 1e-5, self.vb.pp(format!("{name}_bn")))?),
            act,
        })
    }

    fn dense(&self, name: &str, i: usize, o: usize, relu: bool) -> Result<Layer> {
        Ok(Layer::Dense {
            name: name.into(),
            lin: linear(i, o, self.vb.pp(name))?,
            relu,
        })
    }

    /// Basic residual block: two 3x3 convolutions; a 1x1 projection shortcut when the stride or
    /// the width changes.
    fn residual(&self, name: &str, i: usize, o: usize, stride: usize) -> Result<Layer> {
        let body = vec![
            self.conv_bn(&format!("{name}_conv1"), i, o, 3, stride, 1, Act::Relu)?,
            self.conv_bn(&format!("{name}_conv2"), o, o, 3, 1, 1, Act::Linear)?,
        ];
        let shortcut = if stride != 1 || i != o {
            vec![self.conv_bn(&format!("{name}_proj"), i, o, 1, stride, 1, Act::Linear)?]
        } else {
            Vec::new()
        };
        Ok(Layer::Residual {
            name: name.into(),
            body,
            shortcut,
        })
    }

    /// Depthwise 3x3 (stride `stride`) then pointwise 1x1 to `o` channels, each with batch
    /// normalization and ReLU6.
    fn separable(&self, name: &str, i: usize, o: usize, stride: usize) -> Result<[Layer; 2]> {
        Ok([
            self.conv_bn(&format!("{name}_dw"), i, i, 3, stride, i, Act::Relu6)?,
            self.conv_bn(&format!("{name}_pw"), i, o, 1, 1, 1, Act::Relu6)?,
        ])
    }
}

impl Net {
    pub fn new(arch: Arch, vb: VarBuilder) -> Result<Self> {
        let m = Maker { vb: &vb };
        let layers = match arch {
            Arch::Lenet5 => vec![
                m.conv_relu("conv1", 1, 6, 5, 2)?,
                Layer::Pool,
                m.conv_relu("conv2", 6, 16, 5, 0)?,
                Layer::Pool,
                Layer::Flatten,
                m.dense("fc1", 400, 120, true)?,
                m.dense("fc2", 120, 84, true)?,
                m.dense("fc3", 84, 10, false)?,
            ],
            Arch::VggSmall => vec![
                m.conv_relu("conv1", 1, 24, 3, 1)?,
                Layer::Pool,
                m.conv_relu("conv2", 24, 48, 3, 1)?,
                Layer::Pool,
                m.conv_relu("conv3", 48, 96, 3, 1)?,
                Layer::Pool,
                Layer::Flatten,
                m.dense("fc1", 864, 576, true)?,
                m.dense("fc2", 576, 10, false)?,
            ],
            Arch::Resnet => vec![
                m.conv_bn("stem", 1, 16, 3, 1, 1, Act::Relu)?,
                Layer::Pool,
                m.residual("s1b1", 16, 16, 1)?,
                m.residual("s1b2", 16, 16, 1)?,
                m.residual("s2b1", 16, 32, 2)?,
                m.residual("s2b2", 32, 32, 1)?,
                m.residual("s3b1", 32, 64, 2)?,
                m.residual("s3b2", 64, 64, 1)?,
                Layer::GlobalAvgPool,
                Layer::Flatten,
                m.dense("fc", 64, 10, false)?,
            ],
            Arch::Mobilenet => {
                let mut l = vec![m.conv_bn("stem", 1, 16, 3, 2, 1, Act::Relu6)?];
                for (name, i, o, s) in [
                    ("b1", 16, 32, 1),
                    ("b2", 32, 64, 2),
                    ("b3", 64, 64, 1),
                    ("b4", 64, 128, 2),
                    ("b5", 128, 128, 1),
                ] {
                    l.extend(m.separable(name, i, o, s)?);
                }
                l.extend([Layer::GlobalAvgPool, Layer::Flatten]);
                l.push(m.dense("fc", 128, 10, false)?);
                l
            }
        };
        Ok(Self { layers })
    }

    /// Logits for a batch `[N, 1, 28, 28]`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        forward_layers(&self.layers, x, train)
    }
}

fn forward_layers(layers: &[Layer], x: &Tensor, train: bool) -> Result<Tensor> {
    let mut x = x.clone();
    for l in layers {
        x = match l {
            Layer::Conv {
                spec,
                conv,
                bn,
                act,
            } => {
                let y = if spec.groups > 1 && spec.groups == x.dim(1)? {
                    depthwise(&x, conv.weight(), spec)?
                } else {
                    conv.forward(&x)?
                };
                let y = match bn {
                    Some(bn) => bn.forward_t(&y, train)?,
                    None => y,
                };
                act.apply(y)?
            }
            Layer::Pool => x.max_pool2d(2)?,
            Layer::GlobalAvgPool => x.mean_keepdim(3)?.mean_keepdim(2)?,
            Layer::Flatten => x.flatten_from(1)?,
            Layer::Dense { lin, relu, .. } => {
                let y = lin.forward(&x)?;
                if *relu {
                    let y = y.relu()?;
                    if train {
                        candle_nn::ops::dropout(&y, 0.25)?
                    } else {
                        y
                    }
                } else {
                    y
                }
            }
            Layer::Residual { body, shortcut, .. } => {
                let y = forward_layers(body, &x, train)?;
                let s = forward_layers(shortcut, &x, train)?;
                (y + s)?.relu()?
            }
        };
    }
    Ok(x)
}

/// Depthwise convolution (one group per channel) as a sum of shifted copies of the input, each
/// scaled per channel: the same result as candle's grouped convolution, which runs one small
/// convolution per channel and is many times slower on the CPU.
fn depthwise(x: &Tensor, w: &Tensor, spec: &ConvSpec) -> Result<Tensor> {
    let (n, c, h, wd) = x.dims4()?;
    let (k, pad, stride) = (spec.k, spec.pad, spec.stride.max(1));
    let xp = x.pad_with_zeros(2, pad, pad)?.pad_with_zeros(3, pad, pad)?;
    let (oh, ow) = (h + 2 * pad + 1 - k, wd + 2 * pad + 1 - k);
    let mut acc: Option<Tensor> = None;
    for ky in 0..k {
        for kx in 0..k {
            let tap = w
                .narrow(2, ky, 1)?
                .narrow(3, kx, 1)?
                .reshape((1, c, 1, 1))?;
            let term = xp
                .narrow(2, ky, oh)?
                .narrow(3, kx, ow)?
                .broadcast_mul(&tap)?;
            acc = Some(match acc {
                Some(a) => (a + term)?,
                None => term,
            });
        }
    }
    let y = acc.ok_or_else(|| anyhow::anyhow!("{}: empty kernel", spec.name))?;
    if stride == 1 {
        return Ok(y);
    }
    // Keep every stride-th row and column: output size ceil(oh / stride), as ONNX.
    let (eh, ew) = (oh.div_ceil(stride), ow.div_ceil(stride));
    let y = y
        .pad_with_zeros(2, 0, eh * stride - oh)?
        .pad_with_zeros(3, 0, ew * stride - ow)?
        .contiguous()?
        .reshape((n, c, eh, stride, ew, stride))?
        .narrow(3, 0, 1)?
        .narrow(5, 0, 1)?
        .contiguous()?
        .reshape((n, c, eh, ew))?;
    Ok(y)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Module};

    #[test]
    fn depthwise_equals_grouped_convolution() -> Result<()> {
        let dev = Device::Cpu;
        for (size, stride) in [(28, 1), (28, 2), (7, 2), (7, 1)] {
            let x = Tensor::randn(0f32, 1.0, (2, 5, size, size), &dev)?;
            let w = Tensor::randn(0f32, 1.0, (5, 1, 3, 3), &dev)?;
            let cfg = Conv2dConfig {
                padding: 1,
                stride,
                groups: 5,
                ..Default::default()
            };
            let want = Conv2d::new(w.clone(), None, cfg).forward(&x)?;
            let spec = ConvSpec {
                name: "dw".into(),
                k: 3,
                pad: 1,
                stride,
                groups: 5,
            };
            let got = depthwise(&x, &w, &spec)?;
            assert_eq!(got.dims(), want.dims());
            let diff = (got - want)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-4, "size {size} stride {stride}: {diff}");
        }
        Ok(())
    }
}
