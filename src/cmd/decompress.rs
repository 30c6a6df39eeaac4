//! `linecompress decompress`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use lc_sw::model::onnx::{load_model, replace_weights, save_model, weights, WeightTensor};
use lc_sw::model::qdq::IntWeights;
use lc_sw::quant::dequantize;
use serde::Serialize;

/// Arguments of `decompress`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Container to decode.
    pub input: PathBuf,
    /// Output: `.json` (integer weights and scales per layer) or `.onnx` (the model given with
    /// `--model`, its weights replaced by the dequantized decoded ones; pre-quantized integer
    /// weights are written back as integers on their own grid).
    #[arg(short, long)]
    pub output: PathBuf,
    /// The original ONNX model, needed for `.onnx` output.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

#[derive(Serialize)]
struct JsonLayer<'a> {
    name: &'a str,
    dims: &'a [usize],
    bits: u8,
    scales: &'a [f32],
    values: &'a [i32],
}

/// Run `decompress`.
pub fn run(args: &Args) -> Result<()> {
    let container = crate::cmd::read_container(&args.input)?;
    let decoded = container.decode()?;
    match args.output.extension().and_then(|e| e.to_str()) {
        Some("json") => {
            let layers: Vec<JsonLayer> = container
                .layers
                .iter()
                .zip(&decoded)
                .map(|(l, v)| JsonLayer {
                    name: &l.name,
                    dims: &l.dims,
                    bits: l.params.bits,
                    scales: &l.scales,
                    values: v,
                })
                .collect();
            let file = std::fs::File::create(&args.output)
                .with_context(|| format!("creating {}", args.output.display()))?;
            serde_json::to_writer(
                std::io::BufWriter::new(file),
                &serde_json::json!({ "layers": layers }),
            )?;
        }
        Some("onnx") => {
            let Some(model_path) = &args.model else {
                bail!("ONNX output needs the original model: pass --model MODEL.onnx");
            };
            let mut model = load_model(model_path)?;
            let originals = weights(&model)?;
            let mut tensors = Vec::new();
            for (layer, values) in container.layers.iter().zip(&decoded) {
                let Some(orig) = originals.iter().find(|t| t.name == layer.name) else {
                    bail!(
                        "layer '{}' is not a weight tensor of {}",
                        layer.name,
                        model_path.display()
                    );
                };
                if orig.dims != layer.dims {
                    bail!(
                        "layer '{}' has shape {:?} in the container but {:?} in the model",
                        layer.name,
                        layer.dims,
                        orig.dims
                    );
                }
                let data = dequantize(values, &layer.scales, values.len() / layer.dims[0]);
                let int = orig.int.as_ref().map(|int| IntWeights {
                    values: values.clone(),
                    ..int.clone()
                });
                tensors.push(WeightTensor {
                    data,
                    int,
                    ..orig.clone()
                });
            }
            replace_weights(&mut model, &tensors)?;
            save_model(&model, &args.output)?;
        }
        _ => bail!(
            "output must end in .json or .onnx: {}",
            args.output.display()
        ),
    }
    eprintln!("wrote {}", args.output.display());
    Ok(())
}
