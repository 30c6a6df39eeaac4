//! The settings the per-layer budget search may give a layer, per method family, from the
//! finest (closest to INT8) to the coarsest.

use crate::codec::Mode;

use super::variants::Method;

/// A method family searched per layer by `eval --max-drop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// LineCompress, lines plus Rice residuals: eps 0 to 32 LSB.
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

    /// The settings one layer may take, finest first.
    pub fn ladder(self) -> Vec<Method> {
        match self {
            Family::LcRice => [0, 1, 2, 4, 8, 16, 32]
                .map(|eps| Method::LineCompress {
                    mode: Mode::Rice,
                    eps,
                })
                .to_vec(),
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
            let l = f.ladder();
            assert!(l.len() >= 2);
            assert!(l.iter().all(|m| m.family() == f.name()), "{f:?}");
        }
    }
}
