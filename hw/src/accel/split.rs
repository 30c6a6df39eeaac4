//! How the output channels of a layer are split over the accelerator's lanes: P MAC lanes and
//! D decompressor lanes, D dividing P. Output channel `c` is computed by MAC lane `c mod P` and
//! decoded by decompressor lane `c mod D` (the container's lane split, FORMAT.md section 5), so
//! decompressor lane `d` feeds MAC lanes `d, d + D, d + 2D, ...` in turn.

use anyhow::{bail, Result};

/// Largest number of MAC lanes.
pub const MAX_ACCEL_LANES: usize = 32;

/// The lane counts of an accelerator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccelLanes {
    mac: usize,
    dec: usize,
}

impl AccelLanes {
    /// P MAC lanes fed by D decompressor lanes; D must divide P.
    pub fn new(mac: usize, dec: usize) -> Result<Self> {
        if mac == 0 || mac > MAX_ACCEL_LANES {
            bail!("the number of MAC lanes must be 1..={MAX_ACCEL_LANES}, not {mac}");
        }
        if dec == 0 {
            bail!("the accelerator needs at least one decompressor lane");
        }
        if dec > mac {
            bail!("{dec} decompressor lanes for {mac} MAC lanes: D must not exceed P");
        }
        if !mac.is_multiple_of(dec) {
            bail!("{dec} decompressor lanes for {mac} MAC lanes: D must divide P");
        }
        Ok(AccelLanes { mac, dec })
    }

    /// One decompressor lane per MAC lane.
    pub fn matched(lanes: usize) -> Result<Self> {
        Self::new(lanes, lanes)
    }

    /// MAC lanes P.
    pub fn mac(&self) -> usize {
        self.mac
    }

    /// Decompressor lanes D.
    pub fn dec(&self) -> usize {
        self.dec
    }

    /// MAC lanes each decompressor lane feeds, P / D.
    pub fn fan(&self) -> usize {
        self.mac / self.dec
    }

    /// Output channels of `channels` that MAC lane `m` computes.
    pub fn mac_channels(&self, m: usize, channels: usize) -> usize {
        lane_share(m, self.mac, channels)
    }

    /// Output channels of `channels` that decompressor lane `d` decodes.
    pub fn dec_channels(&self, d: usize, channels: usize) -> usize {
        lane_share(d, self.dec, channels)
    }
}

/// Channels `c < channels` with `c mod lanes == lane`.
fn lane_share(lane: usize, lanes: usize, channels: usize) -> usize {
    if lane < channels {
        (channels - lane).div_ceil(lanes)
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lane_counts_are_refused_with_a_reason() {
        let err = |p, d| AccelLanes::new(p, d).unwrap_err().to_string();
        assert!(err(0, 0).contains("MAC lanes"));
        assert!(err(33, 1).contains("1..=32"));
        assert!(err(4, 0).contains("at least one decompressor lane"));
        assert!(err(2, 4).contains("must not exceed"));
        assert!(err(4, 3).contains("must divide"));
        let l = AccelLanes::new(8, 2).unwrap();
        assert_eq!((l.mac(), l.dec(), l.fan()), (8, 2, 4));
    }

    #[test]
    fn channel_shares_add_up() {
        let l = AccelLanes::new(4, 2).unwrap();
        for o in [1, 3, 4, 10, 17] {
            let mac: usize = (0..4).map(|m| l.mac_channels(m, o)).sum();
            let dec: usize = (0..2).map(|d| l.dec_channels(d, o)).sum();
            assert_eq!((mac, dec), (o, o));
            // Decompressor lane d decodes exactly the channels of MAC lanes d, d + D, ...
            for d in 0..2 {
                let fed: usize = (d..4).step_by(2).map(|m| l.mac_channels(m, o)).sum();
                assert_eq!(fed, l.dec_channels(d, o));
            }
        }
    }
}
