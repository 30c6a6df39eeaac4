//! The compact lane's leading-one detector (the next pointer of its pointer loop) in the rust-hdl
//! simulator against plain Rust, on every 15-bit window and starting bit: the base plus the
//! position of the code's terminating one, that position, the escape's next pointer when there is
//! none, and a segment header's next pointer.

use lc_format::Q_ESC;
use lc_hw::compact::rice::{CompactZeros, ZERO_WINDOW};
use rust_hdl::prelude::*;

/// (next pointer, zeros, escape) of the code at bit `fine` as FORMAT.md section 4.2 reads it:
/// `Q_ESC` zeros make an escape; a header counts as a one at `fine`.
fn reference(
    window: u64,
    fine: u64,
    head: bool,
    base: u64,
    esc_next: u64,
) -> (u64, Option<u64>, bool) {
    if head {
        return (base + fine, Some(0), false);
    }
    let code = (window >> fine) & ((1 << Q_ESC) - 1);
    match code {
        0 => (esc_next, None, true),
        c => {
            let zeros = c.trailing_zeros() as u64;
            (base + fine + zeros, Some(zeros), false)
        }
    }
}

#[test]
fn finds_the_next_pointer_of_every_window() {
    let mut uut = CompactZeros::default();
    uut.connect_all();
    // (base, esc_next, head): bases with each low-bit pattern, up to the largest a regular code
    // (28 + 9 + 4) or a header (28 + 24) of the lane starts from.
    let cases = [
        (0u64, 20u64, false),
        (5, 63, false),
        (23, 31, false),
        (38, 9, false),
        (41, 0, false),
        (30, 1, true),
        (52, 7, true),
    ];
    for (base, esc_next, head) in cases {
        for fine in 0..4u64 {
            for window in 0..1u64 << ZERO_WINDOW {
                uut.window.next = window.into();
                uut.fine.next = fine.into();
                uut.head.next = head;
                uut.base.next = base.into();
                uut.esc_next.next = esc_next.into();
                assert!(simulate(&mut uut, 20), "did not settle");
                let next = uut.next_ptr.val().to_u64();
                let zeros = uut.count.val().to_u64() - fine;
                let escape = uut.escape.val();
                let (want_next, want_zeros, want_escape) =
                    reference(window, fine, head, base, esc_next);
                let case = format!("window {window:#x} fine {fine} head {head} base {base}");
                assert_eq!((next, escape), (want_next, want_escape), "{case}");
                if let Some(z) = want_zeros {
                    assert_eq!(zeros, z, "zeros of {case}");
                }
            }
        }
    }
}
