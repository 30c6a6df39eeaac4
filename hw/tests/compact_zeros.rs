//! The compact lane's leading-one count (the step length its pointer loop adds) in the rust-hdl
//! simulator against plain Rust, on every 12-bit window: the zero bits before the first one,
//! the escape count when there is none.

use lc_hw::compact::rice::{CompactZeros, ZERO_WINDOW};
use rust_hdl::prelude::*;

/// (count, escape) as FORMAT.md section 4.2 reads a code: `Q_ESC` zeros make an escape.
fn reference(window: u64, none: u64) -> (u64, bool) {
    match window {
        0 => (none, true),
        w => (w.trailing_zeros() as u64, false),
    }
}

#[test]
fn counts_every_window() {
    let mut uut = CompactZeros::default();
    uut.connect_all();
    for none in [0u64, 11, 20, 63] {
        for window in 0..1u64 << ZERO_WINDOW {
            uut.window.next = window.into();
            uut.none.next = none.into();
            assert!(simulate(&mut uut, 20), "did not settle");
            let got = (uut.count.val().to_u64(), uut.escape.val());
            assert_eq!(
                got,
                reference(window, none),
                "window {window:#x} none {none}"
            );
        }
    }
}
