//! The emitted tops pinned as golden files (`hw/tests/golden/`), so that any change of the
//! generated Verilog shows as a diff in review. After an intended change, regenerate them with
//! `LC_BLESS=1 cargo test -p lc-hw --test golden`.

use lc_format::Profile;
use lc_hw::accel::emit::generate_accel;
use lc_hw::accel::generate_flash_accel;
use lc_hw::accel::AccelLanes;
use std::path::PathBuf;

fn check(name: &str, verilog: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("LC_BLESS").is_some() {
        std::fs::write(&path, verilog).unwrap();
        return;
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_default();
    if golden != verilog {
        let new = std::env::temp_dir().join(name);
        std::fs::write(&new, verilog).unwrap();
        panic!(
            "{name} differs from {}: `diff {} {}`; if the change is intended, run \
             LC_BLESS=1 cargo test -p lc-hw --test golden",
            path.display(),
            path.display(),
            new.display()
        );
    }
}

#[test]
fn decompressor_tops() {
    for (profile, lanes) in [("compact-flat", 4), ("compact", 4), ("full", 1)] {
        let p = Profile::load(profile).unwrap();
        let (verilog, m) = lc_hw::emit::generate_for(&p, lanes).unwrap();
        check(&format!("{}.v", m.top), &verilog);
    }
}

#[test]
fn accelerator_top() {
    let (verilog, m) =
        generate_accel(&Profile::default_profile(), AccelLanes::new(4, 4).unwrap()).unwrap();
    check(&format!("{}.v", m.top), &verilog);
}

#[test]
fn flash_accelerator_top() {
    let (verilog, m) =
        generate_flash_accel(&Profile::default_profile(), AccelLanes::new(4, 1).unwrap()).unwrap();
    check(&format!("{}.v", m.top), &verilog);
}

#[test]
fn up5k_accelerator_top() {
    let up5k = lc_hw::accel::UP5K;
    let (verilog, m) = lc_hw::accel::generate_accel_in(
        &Profile::default_profile(),
        up5k.lanes().unwrap(),
        up5k.memory,
    )
    .unwrap();
    check(&format!("{}.v", m.top), &verilog);
}
