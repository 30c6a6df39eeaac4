//! One module per subcommand.

pub mod codesign;
pub mod compress;
pub mod data;
pub mod decompress;
pub mod demo;
pub mod eval;
pub mod flash_image;
pub mod inspect;
pub mod merge_verify;
pub mod report;
pub mod rtl;
pub mod sweep;
pub mod synth;
pub mod verify;

use std::path::Path;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use lc_sw::container::Container;

/// Where `make models` puts the pretrained models: `$LC_MODEL_CACHE`, else
/// `~/.cache/linecompress`.
pub fn model_cache() -> std::path::PathBuf {
    match std::env::var_os("LC_MODEL_CACHE") {
        Some(dir) => dir.into(),
        None => std::path::PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| ".".into()))
            .join(".cache/linecompress"),
    }
}

/// Read and validate a container file.
pub fn read_container(path: &Path) -> Result<Container> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Container::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid container", path.display()))
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_prefix(what.to_string());
    bar
}
