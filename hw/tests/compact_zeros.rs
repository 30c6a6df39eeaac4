//! The compact lane's leading-one count (the step length its pointer loop adds) in the rust-hdl
//! simulator against plain Rust, on every 15-bit window and starting bit: the position of the
//! code's terminating one, its zero count, the escape count when there is none, a segment
//! header's count, and whether the step leaves the memory word.

use lc_format::Q_ESC;
use lc_hw::compact::rice::{CompactZeros, ZERO_WINDOW};
use rust_hdl::prelude::*;

/// (count, zeros, escape) of the code at bit `fine` as FORMAT.md section 4.2 reads it: `Q_ESC`
/// zeros make an escape; a header counts as a one at `fine`.
fn reference(window: u64, fine: u64, head: bool, none: u64) -> (u64, Option<u64>, bool) {
    if head {
        return (fine, Some(0), false);
    }
    let code = (window >> fine) & ((1 << Q_ESC) - 1);
    match code {
        0 => (none, None, true),
        c => {
            let zeros = c.trailing_zeros() as u64;
            (fine + zeros, Some(zeros), false)
        }
    }
}

/// Whether the step leaves the word: the terminating one at or past position `stay_below`, or
/// an escape that wraps.
fn wraps(count: u64, escape: bool, stay_below: u64, none_wraps: bool) -> bool {
    match escape {
        true => none_wraps,
        false => count >= stay_below,
    }
}

#[test]
fn counts_every_window() {
    let mut uut = CompactZeros::default();
    uut.connect_all();
    let cases = [
        (0u64, false, 15u64, false),
        (23, false, 6, true),
        (31, false, 0, true),
        (20, true, 2, false),
        (9, false, 13, false),
    ];
    for (none, head, stay_below, none_wraps) in cases {
        uut.stay.next = ((1u64 << stay_below) - 1).into();
        uut.none_wraps.next = none_wraps;
        for fine in 0..4u64 {
            for window in 0..1u64 << ZERO_WINDOW {
                uut.window.next = window.into();
                uut.fine.next = fine.into();
                uut.head.next = head;
                uut.none.next = none.into();
                assert!(simulate(&mut uut, 20), "did not settle");
                let count = uut.count.val().to_u64();
                let zeros = uut.run.val().to_u64();
                let escape = uut.escape.val();
                let (want_count, want_zeros, want_escape) = reference(window, fine, head, none);
                let case = format!("window {window:#x} fine {fine} head {head} none {none}");
                assert_eq!((count, escape), (want_count, want_escape), "{case}");
                let want_wraps = wraps(want_count, want_escape, stay_below, none_wraps);
                assert_eq!(
                    uut.wraps.val(),
                    want_wraps,
                    "wraps of {case} stay {stay_below}"
                );
                if let Some(z) = want_zeros {
                    assert_eq!(zeros, z, "zeros of {case}");
                }
            }
        }
    }
}
