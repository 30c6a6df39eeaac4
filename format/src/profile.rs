//! Hardware profiles: what a generated decompressor accepts. The RTL generator elaborates from a
//! profile (a parameter with one allowed value becomes a constant of the circuit, a range stays a
//! run-time register checked against it), and the encoder chooses only parameters the profile
//! allows, so every container it writes for a profile decodes on that profile's hardware.
//!
//! Profiles are TOML files; the shipped ones live in `profiles/` and are built in by name.

use crate::constants::{Mode, BITS_RANGE, FRAC_BITS_RANGE, LEN_BITS_RANGE, SLOPE_BITS_RANGE};
use crate::params::LayerParams;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Mutex;

/// The profile the shipped accelerator and decompressor are generated with, and that `compress`
/// obeys unless told otherwise.
pub const DEFAULT_PROFILE: &str = "compact-flat";

/// The built-in profiles: (name, TOML text).
const BUILT_IN: [(&str, &str); 3] = [
    ("full", include_str!("../../profiles/full.toml")),
    ("compact", include_str!("../../profiles/compact.toml")),
    (
        "compact-flat",
        include_str!("../../profiles/compact-flat.toml"),
    ),
];

/// An inclusive range of a parameter; `min == max` fixes it when the RTL is generated.
/// Written in TOML as `8` (fixed) or `[0, 7]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RangeRepr", into = "RangeRepr")]
pub struct Range {
    /// Smallest allowed value.
    pub min: u8,
    /// Largest allowed value.
    pub max: u8,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum RangeRepr {
    Fixed(u8),
    Span([u8; 2]),
}

impl TryFrom<RangeRepr> for Range {
    type Error = String;
    fn try_from(r: RangeRepr) -> Result<Self, String> {
        match r {
            RangeRepr::Fixed(v) => Ok(Range { min: v, max: v }),
            RangeRepr::Span([min, max]) if min <= max => Ok(Range { min, max }),
            RangeRepr::Span([min, max]) => Err(format!("empty range [{min}, {max}]")),
        }
    }
}

impl From<Range> for RangeRepr {
    fn from(r: Range) -> Self {
        if r.min == r.max {
            RangeRepr::Fixed(r.min)
        } else {
            RangeRepr::Span([r.min, r.max])
        }
    }
}

impl Range {
    /// A single allowed value.
    pub fn fixed(v: u8) -> Self {
        Range { min: v, max: v }
    }

    /// The value when the range allows only one.
    pub fn value(&self) -> Option<u8> {
        (self.min == self.max).then_some(self.min)
    }

    /// `v` is allowed.
    pub fn contains(&self, v: u8) -> bool {
        (self.min..=self.max).contains(&v)
    }

    /// `v` moved into the range.
    pub fn clamp(&self, v: u8) -> u8 {
        v.clamp(self.min, self.max)
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.value() {
            Some(v) => write!(f, "{v}"),
            None => write!(f, "{}..={}", self.min, self.max),
        }
    }
}

/// What a generated decompressor supports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name (`compact`, `full`, or the file's).
    pub name: String,
    /// One line on what the profile is for.
    #[serde(default)]
    pub description: String,
    /// Width of the decompressor's memory word port (32 or 64).
    pub word_bits: u32,
    /// Value width B.
    pub bits: Range,
    /// Residual modes.
    pub modes: Vec<Mode>,
    /// Fractional bits F of the slope.
    pub frac_bits: Range,
    /// Width LB of the segment length field.
    pub len_bits: Range,
    /// Width MB of the slope field.
    pub slope_bits: Range,
    /// Residual shift r.
    pub shift: Range,
    /// Largest number of weights in one lane stream.
    pub max_lane_weights: u64,
}

/// Why a profile could not be loaded, or refuses a layer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// A field of a layer is outside what the profile's hardware decodes.
    #[error("profile {profile} does not accept {field} = {value} (it decodes {field} {allowed})")]
    Refused {
        /// Profile name.
        profile: String,
        /// Field of the layer record (FORMAT.md section 6 names).
        field: &'static str,
        /// The layer's value.
        value: String,
        /// What the profile allows.
        allowed: String,
    },
    /// No built-in profile or readable file of that name.
    #[error("unknown profile {0}: use one of {1}, or the path of a profile TOML file")]
    Unknown(String, String),
    /// The profile file does not parse or describes no valid hardware.
    #[error("profile {0}: {1}")]
    Invalid(String, String),
}

impl Profile {
    /// The names of the built-in profiles.
    pub fn built_in_names() -> Vec<&'static str> {
        BUILT_IN.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in profile by name, or a profile TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Profile, ProfileError> {
        if let Some((name, text)) = BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
            return Profile::parse(name, text);
        }
        let path = Path::new(name_or_path);
        if path.is_file() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| ProfileError::Invalid(name_or_path.into(), e.to_string()))?;
            return Profile::parse(name_or_path, &text);
        }
        Err(ProfileError::Unknown(
            name_or_path.into(),
            Profile::built_in_names().join(", "),
        ))
    }

    /// A profile loaded once and kept for the life of the process (the built-in ones are shared;
    /// each file is read once), so that settings holding it stay `Copy`.
    pub fn shared(name_or_path: &str) -> Result<&'static Profile, ProfileError> {
        static LOADED: Mutex<Vec<(String, &'static Profile)>> = Mutex::new(Vec::new());
        let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, p)) = loaded.iter().find(|(n, _)| n == name_or_path) {
            return Ok(p);
        }
        let p: &'static Profile = Box::leak(Box::new(Profile::load(name_or_path)?));
        loaded.push((name_or_path.to_string(), p));
        Ok(p)
    }

    /// The profile the shipped hardware is generated with.
    pub fn default_profile() -> Profile {
        Profile::load(DEFAULT_PROFILE).expect("the built-in default profile is valid")
    }

    /// Parse and check a profile TOML text; `origin` names it in errors.
    pub fn parse(origin: &str, text: &str) -> Result<Profile, ProfileError> {
        let p: Profile = toml::from_str(text)
            .map_err(|e| ProfileError::Invalid(origin.into(), e.to_string()))?;
        p.check_ranges()
            .map_err(|e| ProfileError::Invalid(origin.into(), e))?;
        Ok(p)
    }

    fn check_ranges(&self) -> Result<(), String> {
        let within = |name: &str, r: &Range, all: std::ops::RangeInclusive<u8>| {
            if all.contains(&r.min) && all.contains(&r.max) {
                Ok(())
            } else {
                Err(format!(
                    "{name} {r} is outside the format's {}..={}",
                    all.start(),
                    all.end()
                ))
            }
        };
        within("bits", &self.bits, BITS_RANGE)?;
        within("frac_bits", &self.frac_bits, FRAC_BITS_RANGE)?;
        within("len_bits", &self.len_bits, LEN_BITS_RANGE)?;
        within("slope_bits", &self.slope_bits, SLOPE_BITS_RANGE)?;
        within("shift", &self.shift, 0..=BITS_RANGE.end() - 1)?;
        if self.modes.is_empty() {
            return Err("modes is empty".into());
        }
        if ![32, 64].contains(&self.word_bits) {
            return Err(format!("word_bits = {} is not 32 or 64", self.word_bits));
        }
        if self.max_lane_weights == 0 {
            return Err("max_lane_weights = 0".into());
        }
        Ok(())
    }

    fn refuse(
        &self,
        field: &'static str,
        value: impl ToString,
        allowed: impl ToString,
    ) -> ProfileError {
        ProfileError::Refused {
            profile: self.name.clone(),
            field,
            value: value.to_string(),
            allowed: allowed.to_string(),
        }
    }

    /// Check a layer's parameters; the error names the first field the hardware cannot decode.
    pub fn check(&self, p: &LayerParams) -> Result<(), ProfileError> {
        let fields: [(&'static str, u8, &Range); 4] = [
            ("bits", p.bits, &self.bits),
            ("frac_bits", p.frac_bits, &self.frac_bits),
            ("len_bits", p.len_bits, &self.len_bits),
            ("slope_bits", p.slope_bits, &self.slope_bits),
        ];
        for (field, value, range) in fields {
            if !range.contains(value) {
                return Err(self.refuse(field, value, range));
            }
        }
        if !self.modes.contains(&p.mode) {
            let modes: Vec<String> = self.modes.iter().map(|m| m.to_string()).collect();
            return Err(self.refuse("mode", p.mode, modes.join(", ")));
        }
        if p.mode == Mode::Rice && !self.shift.contains(p.shift) {
            return Err(self.refuse("shift", p.shift, self.shift));
        }
        Ok(())
    }

    /// Check the number of weights of one lane stream.
    pub fn check_lane_weights(&self, count: u64) -> Result<(), ProfileError> {
        if count > self.max_lane_weights {
            return Err(self.refuse("count", count, format!("up to {}", self.max_lane_weights)));
        }
        Ok(())
    }

    /// Every allowed value of a range, in increasing order.
    pub fn values(range: &Range) -> impl Iterator<Item = u8> {
        range.min..=range.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_profiles_parse() {
        for name in Profile::built_in_names() {
            let p = Profile::load(name).unwrap();
            assert_eq!(p.name, name);
        }
    }

    #[test]
    fn refusal_names_the_field() {
        let p = Profile::load("compact").unwrap();
        let mut params = LayerParams {
            bits: 8,
            mode: Mode::Rice,
            eps: 2,
            frac_bits: p.frac_bits.min,
            len_bits: p.len_bits.min,
            slope_bits: p.slope_bits.min,
            shift: 1,
        };
        assert!(p.check(&params).is_ok());
        params.slope_bits = 16;
        let e = p.check(&params).unwrap_err().to_string();
        assert!(e.contains("slope_bits = 16"), "{e}");
        params.slope_bits = p.slope_bits.min;
        params.mode = Mode::Lines;
        params.shift = 0;
        assert!(p
            .check(&params)
            .unwrap_err()
            .to_string()
            .contains("mode = lines"));
    }

    #[test]
    fn bad_files_are_errors() {
        assert!(matches!(
            Profile::load("no-such"),
            Err(ProfileError::Unknown(..))
        ));
        let bad = "name = 'x'\nword_bits = 48\nbits = 8\nmodes = ['rice']\nfrac_bits = 4\n\
                   len_bits = 8\nslope_bits = 4\nshift = [0, 7]\nmax_lane_weights = 10\n";
        assert!(matches!(
            Profile::parse("x", bad),
            Err(ProfileError::Invalid(..))
        ));
        let empty = bad.replace("48", "32").replace("[0, 7]", "[7, 0]");
        assert!(Profile::parse("x", &empty).is_err());
        assert!(Profile::parse("x", &bad.replace("48", "32")).is_ok());
    }
}
