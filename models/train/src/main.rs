//! Trains the CNNs shipped in `models/` on Fashion-MNIST with candle and exports them to ONNX.
//!
//! ```text
//! cargo run --release -- --arch lenet5 --epochs 10 --out ../lenet5.onnx
//! cargo run --release -- --arch vgg-small --epochs 3 --out ../vgg_small.onnx
//! cargo run --release -- --arch resnet --epochs 3 --out ../resnet_small.onnx
//! cargo run --release -- --arch mobilenet --epochs 3 --out ../mobilenet_small.onnx
//! ```
//! Inputs are normalised as `(pixel - 128) / 128`, so the int8 input of the integer model is
//! exactly `pixel - 128`; the ONNX file records this in its metadata (`input_mean`, `input_std`).

mod data;
mod export;
mod nets;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{loss, Optimizer, VarBuilder, VarMap};
use clap::Parser;
use rand::seq::SliceRandom;
use rand::SeedableRng;

use nets::{Arch, Net};

/// Command line.
#[derive(Parser)]
struct Cli {
    /// Network to train.
    #[arg(long, value_enum)]
    arch: Arch,
    /// Passes over the 60,000 training images.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Mini-batch size.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// AdamW learning rate (decayed by half every `--decay-every` epochs).
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Epochs between learning-rate halvings.
    #[arg(long, default_value_t = 4)]
    decay_every: usize,
    /// Seed of the shuffling (candle's CPU initialisation and dropout are not seedable).
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Directory of the Fashion-MNIST IDX files.
    #[arg(long, default_value = "/usr/share/datasets/fashion-mnist")]
    data_dir: PathBuf,
    /// Output ONNX file (rewritten after every epoch).
    #[arg(long)]
    out: PathBuf,
    /// Continue from the weights of an ONNX file this program wrote (same --arch).
    #[arg(long)]
    init: Option<PathBuf>,
    /// Number of epochs already trained (with --init), for the metadata and the lr schedule.
    #[arg(long, default_value_t = 0)]
    start_epoch: usize,
}

fn accuracy(net: &Net, images: &Tensor, labels: &Tensor) -> Result<f64> {
    let n = images.dim(0)?;
    let mut correct = 0u64;
    for start in (0..n).step_by(1000) {
        let len = 1000.min(n - start);
        let logits = net.forward(&images.narrow(0, start, len)?, false)?;
        let pred = logits.argmax(D::Minus1)?;
        let eq = pred
            .eq(&labels.narrow(0, start, len)?)?
            .to_dtype(DType::U32)?;
        correct += eq.sum_all()?.to_scalar::<u32>()? as u64;
    }
    Ok(correct as f64 / n as f64)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let dev = Device::Cpu;
    let train = data::load(&cli.data_dir, "train", &dev)?;
    let test = data::load(&cli.data_dir, "t10k", &dev)?;
    let varmap = VarMap::new();
    let vb = VarBuilder::from_varmap(&varmap, DType::F32, &dev);
    let net = Net::new(cli.arch, vb)?;
    if let Some(init) = &cli.init {
        export::load_onnx_weights(&varmap, init)?;
        eprintln!("continuing from {}", init.display());
    }
    let params = varmap
        .all_vars()
        .iter()
        .map(|v| v.elem_count())
        .sum::<usize>();
    eprintln!("{:?}: {params} parameters", cli.arch);
    let mut opt = candle_nn::AdamW::new(
        varmap.all_vars(),
        candle_nn::ParamsAdamW {
            lr: cli.lr,
            weight_decay: 1e-4,
            ..Default::default()
        },
    )?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(cli.seed);
    let n = train.images.dim(0)?;
    let mut order: Vec<u32> = (0..n as u32).collect();
    let t0 = Instant::now();
    for epoch in cli.start_epoch + 1..=cli.start_epoch + cli.epochs {
        let lr = cli.lr * 0.5f64.powi(((epoch - 1) / cli.decay_every.max(1)) as i32);
        opt.set_learning_rate(lr);
        order.shuffle(&mut rng);
        let mut sum_loss = 0f64;
        let mut batches = 0usize;
        for chunk in order.chunks(cli.batch) {
            let idx = Tensor::from_slice(chunk, chunk.len(), &dev)?;
            let x = train.images.index_select(&idx, 0)?;
            let y = train.labels.index_select(&idx, 0)?;
            let logits = net.forward(&x, true)?;
            let l = loss::cross_entropy(&logits, &y)?;
            opt.backward_step(&l)?;
            sum_loss += l.to_scalar::<f32>()? as f64;
            batches += 1;
            if batches % 200 == 0 {
                eprintln!(
                    "  {batches} batches  train loss {:.4}  ({:.0} s)",
                    sum_loss / batches as f64,
                    t0.elapsed().as_secs_f64()
                );
            }
        }
        let acc = accuracy(&net, &test.images, &test.labels)?;
        eprintln!(
            "epoch {epoch:2}  lr {lr:.2e}  train loss {:.4}  test accuracy {:.2}%  ({:.0} s)",
            sum_loss / batches as f64,
            100.0 * acc,
            t0.elapsed().as_secs_f64()
        );
        export::write_onnx(&net, &varmap, &cli.out, acc, epoch)?;
    }
    println!(
        "{:?} trained {} epochs in {:.0} s, wrote {}",
        cli.arch,
        cli.epochs,
        t0.elapsed().as_secs_f64(),
        cli.out.display()
    );
    Ok(())
}
