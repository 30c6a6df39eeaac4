//! `linecompress compress`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lc_format::Profile;
use lc_sw::codec::{Mode, Strategy};
use lc_sw::compress::Progress;
use lc_sw::container::{CompressOptions, Container};
use lc_sw::report::{inspect, table};

/// Options shared by every command that compresses a model.
#[derive(clap::Args, Clone, Debug)]
pub struct CodecArgs {
    /// Residual mode: `lines` (pure line segments) or `rice` (lines plus Rice-coded residuals).
    #[arg(long, value_enum, default_value = "rice")]
    pub mode: ModeArg,
    /// Error bound per weight, in LSB of the quantized value.
    #[arg(long, default_value_t = 2)]
    pub eps: u16,
    /// Quantized value width B (4..=16).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u8).range(4..=16))]
    pub bits: u8,
    /// Number of independent lanes (hardware decoders) per layer.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub lanes: u16,
    /// Segmentation: `greedy` (fast) or `optimal` (dynamic programming, never larger).
    #[arg(long, value_enum, default_value = "optimal")]
    pub strategy: StrategyArg,
    /// Hardware profile the streams must decode on: a built-in name (`compact`, `compact-flat`,
    /// `full`) or a profile TOML file. Parameters are chosen within it.
    /// [default: compact; `sweep`: full]
    #[arg(long)]
    pub profile: Option<String>,
    /// Memory word width the streams are packed for.
    #[arg(long, default_value_t = 64, value_parser = word_bits)]
    pub word_bits: u8,
}

fn word_bits(s: &str) -> Result<u8, String> {
    match s {
        "32" => Ok(32),
        "64" => Ok(64),
        _ => Err(format!("{s} is not 32 or 64")),
    }
}

/// Residual mode on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum ModeArg {
    /// Pure line segments.
    Lines,
    /// Line prediction plus Rice-coded residuals.
    Rice,
}

/// Segmentation strategy on the command line.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
pub enum StrategyArg {
    /// Greedy.
    Greedy,
    /// Dynamic programming.
    Optimal,
}

impl CodecArgs {
    /// The hardware profile these arguments select (`--profile`, else the shipped one).
    pub fn profile(&self) -> Result<&'static Profile> {
        self.profile_or(lc_format::DEFAULT_PROFILE)
    }

    /// The hardware profile `--profile` selects, else `default`.
    pub fn profile_or(&self, default: &str) -> Result<&'static Profile> {
        Ok(Profile::shared(self.profile.as_deref().unwrap_or(default))?)
    }

    /// The codec options these arguments select.
    pub fn options(&self) -> Result<CompressOptions> {
        Ok(CompressOptions {
            profile: self.profile()?.clone(),
            mode: match self.mode {
                ModeArg::Lines => Mode::Lines,
                ModeArg::Rice => Mode::Rice,
            },
            eps: self.eps,
            lanes: self.lanes as usize,
            strategy: match self.strategy {
                StrategyArg::Greedy => Strategy::Greedy,
                StrategyArg::Optimal => Strategy::Optimal,
            },
        })
    }
}

/// Arguments of `compress`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// ONNX model whose Conv/Gemm/MatMul weights are compressed.
    pub model: PathBuf,
    /// Output container.
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub codec: CodecArgs,
    /// Print the per-layer table as JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// [`lc_sw::compress::compress_model`] with the codec arguments, showing its progress.
pub fn compress_model(model: &std::path::Path, codec: &CodecArgs) -> Result<Container> {
    let mut bar = None;
    let container = lc_sw::compress::compress_model(
        model,
        &codec.options()?,
        codec.bits,
        codec.word_bits,
        |p| match p {
            Progress::Start(n) => bar = Some(crate::cmd::progress(n as u64, "compressing layers")),
            Progress::Layer(name) => {
                if let Some(b) = &bar {
                    b.set_message(name.to_string());
                    b.inc(1);
                }
            }
        },
    );
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok(container?)
}

/// Run `compress`.
pub fn run(args: &Args) -> Result<()> {
    if args.output.extension().is_some_and(|e| e == "onnx") {
        bail!(
            "refusing to write a container over an .onnx path: {}",
            args.output.display()
        );
    }
    let container = compress_model(&args.model, &args.codec)?;
    std::fs::write(&args.output, container.to_bytes())
        .with_context(|| format!("writing {}", args.output.display()))?;
    let report = inspect(&container)?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", table(&report));
        println!("wrote {}", args.output.display());
    }
    Ok(())
}
