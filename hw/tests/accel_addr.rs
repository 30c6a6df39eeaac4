//! The accelerator's address generator in rust-hdl simulation against a plain model: the nested
//! loops over channel groups, output rows and columns, input channels and kernel rows and columns,
//! with every address computed directly from the loop indices. Random layer geometries, random
//! stalls of `step`, and a restart in the middle of a layer.

use lc_hw::accel::addr::AddrGen;
use rust_hdl::prelude::*;

mod common;
use common::{clock_edge, XorShift};

/// A layer as the host programs it.
#[derive(Clone, Copy, Debug)]
struct Geometry {
    lanes: u64,
    groups: u64,
    in_c: u64,
    in_h: u64,
    in_w: u64,
    kh: u64,
    kw: u64,
    sh: u64,
    sw: u64,
    pad_top: u64,
    pad_left: u64,
    out_h: u64,
    out_w: u64,
    in_base: u64,
    out_base: u64,
}

/// What the generator says about one product.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Product {
    k: u64,
    first: bool,
    bank: bool,
    act_addr: u64,
    in_bounds: bool,
    last: bool,
    out_addr: u64,
    ch0: u64,
    group_end: bool,
    layer_end: bool,
}

const MASK: u64 = 0xffff;

/// Every product of the layer, in issue order.
fn products(g: &Geometry) -> Vec<Product> {
    let mut out = Vec::new();
    for grp in 0..g.groups {
        for oy in 0..g.out_h {
            for ox in 0..g.out_w {
                for ic in 0..g.in_c {
                    for ky in 0..g.kh {
                        for kx in 0..g.kw {
                            let iy = (oy * g.sh + ky) as i64 - g.pad_top as i64;
                            let ix = (ox * g.sw + kx) as i64 - g.pad_left as i64;
                            let addr = g.in_base as i64
                                + (ic * g.in_h * g.in_w) as i64
                                + iy * g.in_w as i64
                                + ix;
                            let last = ic == g.in_c - 1 && ky == g.kh - 1 && kx == g.kw - 1;
                            let group_end = last && oy == g.out_h - 1 && ox == g.out_w - 1;
                            out.push(Product {
                                k: (ic * g.kh + ky) * g.kw + kx,
                                first: ic == 0 && ky == 0 && kx == 0,
                                bank: grp % 2 == 1,
                                act_addr: addr as u64 & MASK,
                                in_bounds: (0..g.in_h as i64).contains(&iy)
                                    && (0..g.in_w as i64).contains(&ix),
                                last,
                                out_addr: (g.out_base
                                    + grp * g.lanes * g.out_h * g.out_w
                                    + oy * g.out_w
                                    + ox)
                                    & MASK,
                                ch0: grp * g.lanes,
                                group_end,
                                layer_end: group_end && grp == g.groups - 1,
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

fn random_geometry(rng: &mut XorShift) -> Geometry {
    let kh = rng.range(1, 3);
    let kw = rng.range(1, 3);
    let in_h = rng.range(kh, 5);
    let in_w = rng.range(kw, 5);
    let pad_top = rng.range(0, kh - 1);
    let pad_left = rng.range(0, kw - 1);
    let sh = rng.range(1, 2);
    let sw = rng.range(1, 2);
    Geometry {
        lanes: rng.range(1, 4),
        groups: rng.range(1, 3),
        in_c: rng.range(1, 3),
        in_h,
        in_w,
        kh,
        kw,
        sh,
        sw,
        pad_top,
        pad_left,
        out_h: (in_h + 2 * pad_top - kh) / sh + 1,
        out_w: (in_w + 2 * pad_left - kw) / sw + 1,
        // Near the top of the address space, so that addresses wrap.
        in_base: rng.range(0, MASK),
        out_base: rng.range(0, MASK),
    }
}

fn program(uut: &mut AddrGen, g: &Geometry) {
    let neg = |v: u64| (0u64.wrapping_sub(v)) & MASK;
    uut.in_c.next = g.in_c.into();
    uut.in_h.next = g.in_h.into();
    uut.in_w.next = g.in_w.into();
    uut.kh.next = g.kh.into();
    uut.kw.next = g.kw.into();
    uut.stride_h.next = g.sh.into();
    uut.stride_w.next = g.sw.into();
    uut.out_h.next = g.out_h.into();
    uut.out_w.next = g.out_w.into();
    uut.groups.next = g.groups.into();
    uut.plane.next = (g.in_h * g.in_w).into();
    uut.ix0.next = neg(g.pad_left).into();
    uut.iy0.next = neg(g.pad_top).into();
    uut.row0.next = (g.in_base.wrapping_sub(g.pad_top * g.in_w) & MASK).into();
    uut.row_step.next = (g.sh * g.in_w).into();
    uut.out_base.next = g.out_base.into();
    uut.grp_step.next = (g.lanes * g.out_h * g.out_w).into();
}

fn observed(uut: &AddrGen) -> Product {
    Product {
        k: uut.k.val().to_u64(),
        first: uut.first.val(),
        bank: uut.bank.val(),
        act_addr: uut.act_addr.val().to_u64(),
        in_bounds: uut.in_bounds.val(),
        last: uut.last.val(),
        out_addr: uut.out_addr.val().to_u64(),
        ch0: uut.ch0.val().to_u64(),
        group_end: uut.group_end.val(),
        layer_end: uut.layer_end.val(),
    }
}

/// Start a layer, then step through `stop` of its products with random stalls, checking every
/// cycle.
fn run(uut: &mut AddrGen, g: &Geometry, stop: usize, rng: &mut XorShift) {
    let expected = products(g);
    program(uut, g);
    uut.start.next = true;
    uut.step.next = false;
    clock_edge(uut, |u, c| u.clock.next = Clock { clk: c });
    uut.start.next = false;
    let mut i = 0;
    while i < stop.min(expected.len()) {
        let step = rng.chance(3, 4);
        uut.step.next = step;
        assert!(simulate(uut, 100), "the block settles");
        let want = Product {
            group_end: step && expected[i].group_end,
            layer_end: step && expected[i].layer_end,
            ..expected[i]
        };
        assert_eq!(observed(uut), want, "{g:?} product {i} step {step}");
        clock_edge(uut, |u, c| u.clock.next = Clock { clk: c });
        i += step as usize;
    }
}

#[test]
fn address_generator_walks_the_layer_like_the_nested_loops() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..24 {
        let g = random_geometry(&mut rng);
        let mut uut = AddrGen::new(g.lanes as usize);
        uut.connect_all();
        // A layer abandoned part-way by a new start, then a complete one.
        let total = products(&g).len();
        run(&mut uut, &g, rng.range(0, total as u64) as usize, &mut rng);
        let g2 = Geometry {
            lanes: g.lanes,
            ..random_geometry(&mut rng)
        };
        run(&mut uut, &g2, usize::MAX, &mut rng);
    }
}

#[test]
fn every_loop_bound_of_one_and_two_wraps_like_the_nested_loops() {
    // Each loop (kernel column and row, input channel, output column and row, group) at 1 and
    // at 2, in all 64 combinations, one layer after the other on the same generator: a loop
    // that wraps at once, and one whose counter goes from 2 to 1 under a wrapping inner loop.
    let mut uut = AddrGen::new(2);
    uut.connect_all();
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for bits in 0..64u64 {
        let bound = |i: u64| 1 + ((bits >> i) & 1);
        let (kw, kh, in_c, out_w, out_h, groups) =
            (bound(0), bound(1), bound(2), bound(3), bound(4), bound(5));
        let g = Geometry {
            lanes: 2,
            groups,
            in_c,
            in_h: out_h + kh - 1,
            in_w: out_w + kw - 1,
            kh,
            kw,
            sh: 1,
            sw: 1,
            pad_top: 0,
            pad_left: 0,
            out_h,
            out_w,
            in_base: rng.range(0, MASK),
            out_base: rng.range(0, MASK),
        };
        run(&mut uut, &g, usize::MAX, &mut rng);
    }
}

#[test]
fn a_dense_layer_is_one_position_per_group() {
    let g = Geometry {
        lanes: 4,
        groups: 3,
        in_c: 10,
        in_h: 1,
        in_w: 1,
        kh: 1,
        kw: 1,
        sh: 1,
        sw: 1,
        pad_top: 0,
        pad_left: 0,
        out_h: 1,
        out_w: 1,
        in_base: 100,
        out_base: 200,
    };
    let p = products(&g);
    assert_eq!(p.len(), 30);
    assert_eq!(
        (p[9].last, p[9].group_end, p[29].layer_end),
        (true, true, true)
    );
    assert_eq!((p[10].act_addr, p[10].out_addr, p[10].ch0), (100, 204, 4));
    let mut uut = AddrGen::new(4);
    uut.connect_all();
    run(&mut uut, &g, usize::MAX, &mut XorShift(7));
}
