//! Builds the Verilator models of the decompressor into this crate.
//!
//! For each lane count in [`MODEL_LANES`]: emit the Verilog and port manifest through `lc-hw`,
//! verilate it, render the C++ shim from `templates/verilator_shim.cpp.tera`, and compile model +
//! shim at -O2 with the `cc` crate. The Verilator runtime is compiled once per build directory.
//! Finally the Rust bindings are rendered from `templates/verilator_models.rs.tera`.

use anyhow::{bail, Context, Result};
use lc_format::Profile;
use lc_hw::accel::emit::{ACCEL_LINT_WAIVERS, ACCEL_LINT_WAIVERS_FILE};
use lc_hw::accel::flash_top::{FLASH_LINT_WAIVERS, FLASH_LINT_WAIVERS_FILE};
use lc_hw::emit::{generate_for, Manifest, PortDirection, LINT_WAIVERS, LINT_WAIVERS_FILE};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Lane counts for which a model is built.
const MODEL_LANES: [usize; 2] = [1, 4];
/// Profiles for which decompressor models are built: the full v1 design, the shipped one and the
/// compact lane with slopes.
const MODEL_PROFILES: [&str; 3] = ["full", lc_format::DEFAULT_PROFILE, "compact"];
/// Accelerator models built: (hardware profile of the decompressor lanes, MAC lanes P,
/// decompressor lanes D, weights from a QSPI flash). The shipped profile runs the compressed
/// weights (D = P, 2, 1); `full` runs the raw INT8 baseline. The flash tops (D = 1) put the QSPI
/// reader in front of the lane, for the compressed weights and for the baselines.
const ACCEL_MODELS: [(&str, usize, usize, bool); 9] = [
    (lc_format::DEFAULT_PROFILE, 4, 4, false),
    (lc_format::DEFAULT_PROFILE, 4, 2, false),
    (lc_format::DEFAULT_PROFILE, 4, 1, false),
    ("full", 4, 4, false),
    (lc_format::DEFAULT_PROFILE, 4, 1, true),
    ("full", 4, 1, true),
    // The UP5K build (activations in SPRAM), alone and behind the flash reader (compressed
    // weights and the baselines).
    (
        lc_format::DEFAULT_PROFILE,
        lc_hw::accel::UP5K.mac_lanes,
        lc_hw::accel::UP5K.dec_lanes,
        false,
    ),
    (
        lc_format::DEFAULT_PROFILE,
        lc_hw::accel::UP5K.mac_lanes,
        lc_hw::accel::UP5K.dec_lanes,
        true,
    ),
    (
        "full",
        lc_hw::accel::UP5K.mac_lanes,
        lc_hw::accel::UP5K.dec_lanes,
        true,
    ),
];
const RUNTIME_LIB: &str = "lc_verilated_runtime";

#[derive(Serialize)]
struct ShimPort {
    index: usize,
    name: String,
    direction: &'static str,
    width: usize,
    words: usize,
    top_mask: String,
}

#[derive(Serialize)]
struct ModelBinding {
    prefix: String,
    top: String,
    manifest_path: String,
    verilog_path: String,
}

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    println!("cargo:rerun-if-env-changed=VERILATOR");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let templates = manifest_dir.join("../templates");
    let shim_template = templates.join("verilator_shim.cpp.tera");
    let models_template = templates.join("verilator_models.rs.tera");
    println!("cargo:rerun-if-changed={}", shim_template.display());
    println!("cargo:rerun-if-changed={}", models_template.display());
    let out = PathBuf::from(std::env::var("OUT_DIR")?);

    let verilator = std::env::var("VERILATOR").unwrap_or_else(|_| "verilator".to_string());
    let root = verilator_root(&verilator)?;
    let include = root.join("include");

    let mut bindings = Vec::new();
    for (profile, lanes) in MODEL_PROFILES
        .iter()
        .flat_map(|p| MODEL_LANES.iter().map(move |&l| (*p, l)))
    {
        let profile = Profile::load(profile)?;
        let (verilog, manifest) = generate_for(&profile, lanes)?;
        let design = Design {
            prefix: format!("lc_model_{}", manifest.top),
            verilog,
            manifest,
            waivers: (LINT_WAIVERS_FILE, LINT_WAIVERS),
        };
        bindings.push(build_model(
            &verilator,
            &include,
            &out,
            &shim_template,
            design,
        )?);
    }
    for (profile, p, d, flash) in ACCEL_MODELS {
        let profile = Profile::load(profile)?;
        let lanes = lc_hw::accel::AccelLanes::new(p, d)?;
        let ((verilog, manifest), waivers) = if flash {
            (
                lc_hw::accel::generate_flash_accel(&profile, lanes)?,
                (FLASH_LINT_WAIVERS_FILE, FLASH_LINT_WAIVERS),
            )
        } else {
            (
                lc_hw::accel::generate_accel_in(
                    &profile,
                    lanes,
                    lc_hw::accel::point::memory_for(lanes),
                )?,
                (ACCEL_LINT_WAIVERS_FILE, ACCEL_LINT_WAIVERS),
            )
        };
        let design = Design {
            prefix: format!("lc_model_{}", manifest.top),
            verilog,
            manifest,
            waivers,
        };
        bindings.push(build_model(
            &verilator,
            &include,
            &out,
            &shim_template,
            design,
        )?);
    }
    build_runtime(&include, &out)?;
    println!("cargo:rustc-link-lib=pthread");
    println!("cargo:rustc-link-lib=atomic");

    let mut ctx = tera::Context::new();
    ctx.insert("models", &bindings);
    let text = render(&models_template, &ctx)?;
    std::fs::write(out.join("verilator_models.rs"), text)?;
    Ok(())
}

/// Ask Verilator for its root; fail with install instructions when it is not available.
fn verilator_root(verilator: &str) -> Result<PathBuf> {
    let output = Command::new(verilator)
        .arg("--getenv")
        .arg("VERILATOR_ROOT")
        .output();
    match output {
        Ok(o) if o.status.success() => Ok(PathBuf::from(
            String::from_utf8_lossy(&o.stdout).trim().to_string(),
        )),
        _ => bail!(
            "lc-sim needs Verilator 5 to build its RTL models, but `{verilator} --getenv \
             VERILATOR_ROOT` failed.\n       Install it with `sudo apt-get install -y verilator` \
             (Debian/Ubuntu), or point the VERILATOR environment variable at the verilator binary."
        ),
    }
}

fn render(template: &Path, ctx: &tera::Context) -> Result<String> {
    let source = std::fs::read_to_string(template)
        .with_context(|| format!("reading {}", template.display()))?;
    tera::Tera::one_off(&source, ctx, false)
        .map_err(|e| anyhow::anyhow!("rendering {}: {e:?}", template.display()))
}

/// One design to verilate: its Verilog, port manifest, binding prefix and lint waivers.
struct Design {
    prefix: String,
    verilog: String,
    manifest: Manifest,
    waivers: (&'static str, &'static str),
}

fn build_model(
    verilator: &str,
    include: &Path,
    out: &Path,
    shim_template: &Path,
    design: Design,
) -> Result<ModelBinding> {
    let Design {
        prefix,
        verilog,
        manifest,
        waivers,
    } = design;
    let top = manifest.top.clone();
    let rtl_dir = out.join("rtl");
    std::fs::create_dir_all(&rtl_dir)?;
    let v_path = rtl_dir.join(format!("{top}.v"));
    let m_path = rtl_dir.join(format!("{top}.json"));
    let w_path = rtl_dir.join(waivers.0);
    std::fs::write(&v_path, &verilog)?;
    std::fs::write(&m_path, serde_json::to_string_pretty(&manifest)?)?;
    std::fs::write(&w_path, waivers.1)?;

    // Verilator 5 file names carry hashes: start from an empty directory.
    let mdir = out.join(format!("obj_{top}"));
    if mdir.exists() {
        std::fs::remove_dir_all(&mdir)?;
    }
    let status = Command::new(verilator)
        .args([
            "--cc",
            "--trace",
            "--no-timing",
            "-O3",
            "--x-assign",
            "fast",
        ])
        .args(["--x-initial", "fast", "--top-module", &top, "--Mdir"])
        .arg(&mdir)
        .arg(&w_path)
        .arg(&v_path)
        .status()
        .with_context(|| format!("running {verilator}"))?;
    if !status.success() {
        bail!("verilator failed on {}", v_path.display());
    }

    // One translation unit for the whole model compiles much faster than one per file.
    let classes = std::fs::read_to_string(mdir.join(format!("V{top}_classes.mk")))?;
    let mut unit = String::new();
    for var in [
        "VM_CLASSES_FAST",
        "VM_CLASSES_SLOW",
        "VM_SUPPORT_FAST",
        "VM_SUPPORT_SLOW",
    ] {
        for name in make_list(&classes, var) {
            unit.push_str(&format!(
                "#include \"{}\"\n",
                mdir.join(format!("{name}.cpp")).display()
            ));
        }
    }
    let unit_path = out.join(format!("{top}_model.cpp"));
    std::fs::write(&unit_path, unit)?;

    let ports: Vec<ShimPort> = manifest
        .ports
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let top_bits = (p.width - 1) % 32 + 1;
            let mask = if p.width > 32 && p.width <= 64 {
                format!("{:x}", u64::MAX >> (64 - p.width))
            } else {
                format!("{:x}", u32::MAX >> (32 - top_bits))
            };
            ShimPort {
                index,
                name: p.name.clone(),
                direction: match p.direction {
                    PortDirection::Input => "input",
                    PortDirection::Output => "output",
                },
                width: p.width,
                words: p.width.div_ceil(32),
                top_mask: mask,
            }
        })
        .collect();
    let mut ctx = tera::Context::new();
    ctx.insert("top", &top);
    ctx.insert("prefix", &prefix);
    ctx.insert("clock", &manifest.clock);
    ctx.insert("ports", &ports);
    let shim_path = out.join(format!("{top}_shim.cpp"));
    std::fs::write(&shim_path, render(shim_template, &ctx)?)?;

    cxx(include)
        .include(&mdir)
        .file(&unit_path)
        .file(&shim_path)
        .compile(&format!("lc_model_{top}"));
    Ok(ModelBinding {
        prefix,
        top,
        manifest_path: m_path.display().to_string(),
        verilog_path: v_path.display().to_string(),
    })
}

/// The Verilator runtime, compiled once per build directory.
fn build_runtime(include: &Path, out: &Path) -> Result<()> {
    let lib = out.join(format!("lib{RUNTIME_LIB}.a"));
    if lib.exists() {
        println!("cargo:rustc-link-search=native={}", out.display());
        println!("cargo:rustc-link-lib=static={RUNTIME_LIB}");
        return Ok(());
    }
    cxx(include)
        .file(include.join("verilated.cpp"))
        .file(include.join("verilated_vcd_c.cpp"))
        .file(include.join("verilated_threads.cpp"))
        .compile(RUNTIME_LIB);
    Ok(())
}

/// A C++ build at -O2 whatever the cargo profile, with the defines Verilator's makefiles use.
fn cxx(include: &Path) -> cc::Build {
    let mut b = cc::Build::new();
    b.cpp(true)
        .opt_level(2)
        .debug(false)
        .warnings(false)
        .flag_if_supported("-std=c++17")
        .flag_if_supported("-faligned-new")
        .include(include)
        .include(include.join("vltstd"))
        .define("VM_COVERAGE", "0")
        .define("VM_SC", "0")
        .define("VM_TRACE", "1")
        .define("VM_TRACE_FST", "0")
        .define("VM_TRACE_VCD", "1");
    b
}

/// The words of a make variable (`VAR += a b \` continuation lines included).
fn make_list(makefile: &str, var: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut active = false;
    for line in makefile.lines() {
        let t = line.trim();
        if !active {
            if let Some(rest) = t.strip_prefix(var) {
                let rest = rest.trim_start();
                if let Some(rest) = rest.strip_prefix("+=").or_else(|| rest.strip_prefix('=')) {
                    words.extend(
                        rest.trim_end_matches('\\')
                            .split_whitespace()
                            .map(String::from),
                    );
                    active = rest.ends_with('\\');
                    if !active {
                        continue;
                    }
                }
            }
            continue;
        }
        words.extend(
            t.trim_end_matches('\\')
                .split_whitespace()
                .map(String::from),
        );
        active = t.ends_with('\\');
    }
    words
}
