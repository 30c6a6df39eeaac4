//! The two architectures, described once as a layer list used both for the forward pass and
//! for the ONNX export.

use anyhow::Result;
use candle_core::{Module, Tensor};
use candle_nn::{conv2d, linear, Conv2d, Conv2dConfig, Linear, VarBuilder};

/// Which network.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Arch {
    /// LeNet-5: conv5x5(6) pool conv5x5(16) pool fc120 fc84 fc10 (61,706 parameters).
    Lenet5,
    /// VGG-style: conv3x3(24) pool conv3x3(48) pool conv3x3(96) pool fc576 fc10 (556,234 parameters).
    VggSmall,
}

/// One layer of the sequential network.
pub enum Layer {
    /// Convolution with padding, followed by ReLU.
    ConvRelu {
        name: String,
        conv: Conv2d,
        k: usize,
        pad: usize,
    },
    /// 2x2 max pooling, stride 2.
    Pool,
    /// Flatten `[N, C, H, W]` to `[N, C*H*W]`.
    Flatten,
    /// Fully connected, optionally followed by ReLU (and dropout while training).
    Dense {
        name: String,
        lin: Linear,
        relu: bool,
    },
}

/// A sequential CNN.
pub struct Net {
    pub layers: Vec<Layer>,
}

impl Net {
    pub fn new(arch: Arch, vb: VarBuilder) -> Result<Self> {
        let conv = |name: &str, i: usize, o: usize, k: usize, pad: usize| -> Result<Layer> {
            let cfg = Conv2dConfig {
                padding: pad,
                ..Default::default()
            };
            Ok(Layer::ConvRelu {
                name: name.into(),
                conv: conv2d(i, o, k, cfg, vb.pp(name))?,
                k,
                pad,
            })
        };
        let dense = |name: &str, i: usize, o: usize, relu: bool| -> Result<Layer> {
            Ok(Layer::Dense {
                name: name.into(),
                lin: linear(i, o, vb.pp(name))?,
                relu,
            })
        };
        let layers = match arch {
            Arch::Lenet5 => vec![
                conv("conv1", 1, 6, 5, 2)?,
                Layer::Pool,
                conv("conv2", 6, 16, 5, 0)?,
                Layer::Pool,
                Layer::Flatten,
                dense("fc1", 400, 120, true)?,
                dense("fc2", 120, 84, true)?,
                dense("fc3", 84, 10, false)?,
            ],
            Arch::VggSmall => vec![
                conv("conv1", 1, 24, 3, 1)?,
                Layer::Pool,
                conv("conv2", 24, 48, 3, 1)?,
                Layer::Pool,
                conv("conv3", 48, 96, 3, 1)?,
                Layer::Pool,
                Layer::Flatten,
                dense("fc1", 864, 576, true)?,
                dense("fc2", 576, 10, false)?,
            ],
        };
        Ok(Self { layers })
    }

    /// Logits for a batch `[N, 1, 28, 28]`.
    pub fn forward(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        let mut x = x.clone();
        for l in &self.layers {
            x = match l {
                Layer::ConvRelu { conv, .. } => conv.forward(&x)?.relu()?,
                Layer::Pool => x.max_pool2d(2)?,
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
            };
        }
        Ok(x)
    }
}
