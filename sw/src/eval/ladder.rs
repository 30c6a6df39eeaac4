//! The settings the per-layer budget search may give a layer, per method family, from the
//! finest (closest to INT8) to the coarsest.

use crate::codec::Mode;

use super::variants::Method;

/// The rice ladder's extra rungs: eps strictly between half the residual step `2^r` and the
/// step (r the same as for the power of two below), which the encoder uses as a dead zone
/// (docs/ARCHITECTURE.md, "Residuals").
pub const DEAD_ZONE_EPS: [u16; 3] = [6, 12, 24];

/// A method family searched per layer by `eval --max-drop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// LineCompress, lines plus Rice residuals: eps 0 to 32 LSB (with dead-zone rungs
    /// [`DEAD_ZONE_EPS`] when asked).
    LcRice,
    /// LineCompress, pure lines: eps 0 to 32 LSB.
    LcLines,
    /// Per-channel uniform quantization: 8 down to 2 bits.
    Uniform,
    /// Per-layer 1-D k-means codebook: 256 down to 4 entries.
    KMeans,
}

impl Family {
    /// Every family, in the order tables list them.
    pub const ALL: [Family; 4] = [
        Family::LcRice,
        Family::LcLines,
        Family::Uniform,
        Family::KMeans,
    ];

    /// The settings one layer may take, finest first; `dead_zone` adds [`DEAD_ZONE_EPS`] to
    /// the rice ladder (the other families ignore it).
    pub fn ladder(self, dead_zone: bool) -> Vec<Method> {
        match self {
            Family::LcRice => {
                let mut eps = vec![0, 1, 2, 4, 8, 16, 32];
                if dead_zone {
                    eps.extend(DEAD_ZONE_EPS);
                    eps.sort_unstable();
                }
                eps.into_iter()
                    .map(|eps| Method::LineCompress {
                        mode: Mode::Rice,
                        eps,
                    })
                    .collect()
            }
            Family::LcLines => [0, 2, 4, 6, 8, 12, 16, 24, 32]
                .map(|eps| Method::LineCompress {
                    mode: Mode::Lines,
                    eps,
                })
                .to_vec(),
            Family::Uniform => (2..=8).rev().map(Method::Uniform).collect(),
            Family::KMeans => [256, 128, 64, 32, 16, 8, 4].map(Method::KMeans).to_vec(),
        }
    }

    /// The name used on the command line and in tables (`lc-rice`, `lc-lines`, `uniform`,
    /// `kmeans`), the same as [`Method::family`] of its settings.
    pub fn name(self) -> &'static str {
        match self {
            Family::LcRice => "lc-rice",
            Family::LcLines => "lc-lines",
            Family::Uniform => "uniform",
            Family::KMeans => "kmeans",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladders_are_named_like_their_methods() {
        for f in Family::ALL {
            for dead_zone in [false, true] {
                let l = f.ladder(dead_zone);
                assert!(l.len() >= 2);
                assert!(l.iter().all(|m| m.family() == f.name()), "{f:?}");
            }
        }
    }

    /// Each dead-zone rung lies strictly between half the step and the step its eps gets, so
    /// the encoder writes it with a dead zone, and the ladder stays ordered.
    #[test]
    fn dead_zone_rungs_are_dead_zones() {
        for eps in DEAD_ZONE_EPS {
            let step = 1u16 << lc_format::LayerParams::shift_for_eps(8, eps);
            assert!(step / 2 < eps && eps < step, "eps {eps}, step {step}");
        }
        let eps: Vec<u16> = Family::LcRice
            .ladder(true)
            .iter()
            .map(|m| match m {
                Method::LineCompress { eps, .. } => *eps,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(eps.windows(2).all(|w| w[0] < w[1]), "{eps:?}");
        assert_eq!(eps.len(), 7 + DEAD_ZONE_EPS.len());
    }
}
