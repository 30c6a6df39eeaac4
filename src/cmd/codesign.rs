//! `linecompress codesign`: what each hardware profile costs in compression and saves in
//! hardware. For every profile: the decompressor synthesised, placed and routed (`synth`, one and
//! four lanes), and the footprint ratio the encoder reaches under it on each model within an
//! accuracy budget (`eval --max-drop`). Each measurement is the same command a user would run,
//! started as a child process, so the table reproduces line by line.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use serde_json::Value;

/// Arguments of `codesign`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Profiles to compare (built-in names or TOML files).
    #[arg(long = "profile", default_values = ["full", "compact", "compact-flat"])]
    pub profiles: Vec<String>,
    /// Accuracy budget in points of the float model's accuracy.
    #[arg(long, default_value_t = 1.0)]
    pub max_drop: f64,
    /// Directory of the pretrained models (`make models`); the MTCNN O-Net row needs it.
    #[arg(long, default_value_os_t = crate::cmd::model_cache())]
    pub cache: PathBuf,
    /// Skip synthesis (compression columns only).
    #[arg(long, conflicts_with = "synth_from")]
    pub no_synth: bool,
    /// Take each profile's synthesis columns from an earlier `codesign.json` instead of running
    /// synthesis again (the encoder does not change the hardware); a profile missing there is
    /// synthesised.
    #[arg(long)]
    pub synth_from: Option<PathBuf>,
    /// Output directory: `codesign.md` and `codesign.json`, plus the synthesis runs.
    #[arg(long, default_value = "out/codesign")]
    pub out: PathBuf,
}

/// One model and the `eval` data options it needs.
struct Model {
    name: &'static str,
    path: PathBuf,
    data: Vec<String>,
}

fn models(cache: &Path) -> Vec<Model> {
    let mut m = vec![
        Model {
            name: "LeNet-5",
            path: "models/lenet5.onnx".into(),
            data: vec![],
        },
        Model {
            name: "VGG-small",
            path: "models/vgg_small.onnx".into(),
            data: vec![],
        },
    ];
    let onet = cache.join("mtcnn_onet.onnx");
    if onet.exists() {
        let faces = cache.join("lfw_subset.npy");
        m.push(Model {
            name: "MTCNN O-Net",
            path: onet,
            data: [
                "--dataset",
                "lfw-faces",
                "--layout",
                "whc",
                "--mean",
                "127.5",
                "--std",
                "128",
                "--faces",
            ]
            .iter()
            .map(|s| s.to_string())
            .chain([faces.display().to_string()])
            .collect(),
        });
    }
    m
}

/// Run this binary with `args` and parse the JSON object it prints last.
fn json_of(args: &[String]) -> Result<Value> {
    // When the binary is rebuilt during a run, Linux reports the old inode as "PATH (deleted)":
    // the path itself still names the current binary.
    let exe = std::env::current_exe().context("locating the linecompress binary")?;
    let exe = PathBuf::from(
        exe.to_string_lossy()
            .trim_end_matches(" (deleted)")
            .to_string(),
    );
    eprintln!("codesign: linecompress {}", args.join(" "));
    let out = Command::new(exe)
        .args(args)
        .output()
        .context("running linecompress")?;
    if !out.status.success() {
        bail!(
            "linecompress {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(line).with_context(|| format!("no JSON from linecompress {}", args[0]))
}

fn synth(profile: &str, lanes: usize, out: &Path) -> Result<Value> {
    let dir = out.join(format!("synth-{profile}-x{lanes}").replace('/', "_"));
    json_of(&[
        "synth".into(),
        "--design".into(),
        "decompressor".into(),
        "--lanes".into(),
        lanes.to_string(),
        "--profile".into(),
        profile.into(),
        "--target".into(),
        "hx8k".into(),
        "--out".into(),
        dir.display().to_string(),
        "--json".into(),
    ])
}

fn fmt_ratio(v: &Value) -> String {
    v.as_f64().map_or("-".into(), |r| format!("{r:.2}x"))
}

fn fmt_mhz(v: &Value) -> String {
    v.as_f64().map_or("-".into(), |f| format!("{f:.1}"))
}

/// Run `codesign`.
pub fn run(args: &Args) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let models = models(&args.cache);
    let earlier: Vec<Value> = match &args.synth_from {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a codesign.json", path.display()))?
        }
        None => Vec::new(),
    };
    let mut rows = Vec::new();
    for profile in &args.profiles {
        lc_format::Profile::load(profile)?;
        let reused = earlier.iter().find(|r| r["profile"] == profile.as_str());
        let (one, four) = match reused {
            _ if args.no_synth => (Value::Null, Value::Null),
            Some(r) => {
                let from = args.synth_from.as_deref().unwrap_or(Path::new("-"));
                eprintln!("codesign: synthesis of {profile} from {}", from.display());
                (r["lanes1"].clone(), r["lanes4"].clone())
            }
            None => (synth(profile, 1, &args.out)?, synth(profile, 4, &args.out)?),
        };
        let mut evals = Vec::new();
        for m in &models {
            let mut a: Vec<String> = vec![
                "eval".into(),
                "--model".into(),
                m.path.display().to_string(),
                "--profile".into(),
                profile.clone(),
                "--max-drop".into(),
                args.max_drop.to_string(),
                "--json".into(),
            ];
            a.extend(m.data.iter().cloned());
            evals.push(json_of(&a)?);
        }
        rows.push(serde_json::json!({
            "profile": profile,
            "lanes1": one,
            "lanes4": four,
            "models": models.iter().zip(&evals).map(|(m, e)| serde_json::json!({
                "model": m.name,
                "eval": e,
            })).collect::<Vec<_>>(),
        }));
    }
    let table = markdown(&rows, &models, args.max_drop);
    print!("{table}");
    std::fs::write(args.out.join("codesign.md"), &table)?;
    std::fs::write(
        args.out.join("codesign.json"),
        serde_json::to_string_pretty(&rows)?,
    )?;
    eprintln!("wrote {}", args.out.join("codesign.md").display());
    Ok(())
}

fn markdown(rows: &[Value], models: &[Model], max_drop: f64) -> String {
    let mut s = String::new();
    s.push_str("| profile | LUT4 / FF, 1 lane | Fmax 1 lane (MHz) | LUT4 / FF, 4 lanes | LUT4 per lane (4-lane top / 4) | Fmax 4 lanes (MHz) | fits HX8K |");
    for m in models {
        s.push_str(&format!(" {} x FP32 (acc.) |", m.name));
    }
    s.push('\n');
    s.push_str(&"|---".repeat(7 + models.len()));
    s.push_str("|\n");
    for r in rows {
        let (one, four) = (&r["lanes1"], &r["lanes4"]);
        let cells = |v: &Value| match (v["lut4"].as_u64(), v["ff"].as_u64()) {
            (Some(l), Some(f)) => format!("{l} / {f}"),
            _ => "-".into(),
        };
        let per_lane = four["lut4"]
            .as_u64()
            .map_or("-".into(), |l| format!("{}", l / 4));
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            r["profile"].as_str().unwrap_or("?"),
            cells(one),
            fmt_mhz(&one["fmax_mhz"]),
            cells(four),
            per_lane,
            fmt_mhz(&four["fmax_mhz"]),
            four["fits"]
                .as_bool()
                .map_or("-", |f| if f { "yes" } else { "no" }),
        ));
        for m in r["models"].as_array().into_iter().flatten() {
            let e = &m["eval"];
            s.push_str(&format!(
                " {} ({:.2} %) |",
                fmt_ratio(&e["ratio_fp32"]),
                e["accuracy_compressed"].as_f64().unwrap_or(f64::NAN) * 100.0
            ));
        }
        s.push('\n');
    }
    s.push_str(&format!(
        "\nRatios: `linecompress eval --max-drop {max_drop} --profile P` (per-layer budget, held-out \
         choice, checked on the evaluation images). Hardware: `linecompress synth --design \
         decompressor --lanes N --profile P --target hx8k`.\n"
    ));
    s
}
