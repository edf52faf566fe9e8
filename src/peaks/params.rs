//! Peak-search settings with LaueTools' `readmccd.PeakSearch` keyword names and defaults, so that a
//! `peaksearch.json` of keyword arguments or a `.psp` file maps onto them one to one.

use serde::{Deserialize, Serialize};

use crate::error::{LaueError, Result, Stage};

/// Which image the local maxima are searched in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalMaximaData {
    /// background-subtracted image: B = 10×10 minimum filter of A, then `formulaexpression`
    AutoBackground,
    /// the raw image
    Raw,
}

/// LaueTools' `PeakSearch` keyword arguments (method 0 threshold + blobs, method 2 convolution).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeakSearchParams {
    /// 0: threshold and 4-connected blobs; 2: convolution with a Laplacian-of-Gaussian kernel.
    pub local_maxima_search_method: u8,
    /// Detection threshold on the (background-subtracted) image, counts (strict >).
    #[serde(rename = "IntensityThreshold")]
    pub intensity_threshold: f64,
    /// Half-size (px) of the box of method 2's amplitude test. Not used by method 0 (as in LaueTools).
    #[serde(rename = "PixelNearRadius")]
    pub pixel_near_radius: usize,
    /// Accepted for compatibility; LaueTools' method 0 does not use it.
    pub removeedge: usize,
    /// Half-size b of the fit box: rows and columns [p − b, p + b) around each local maximum (px).
    pub boxsize: usize,
    /// 1: positions in LaueTools' convention (first pixel centre at (1, 1)); 0: array indices.
    pub position_definition: u8,
    /// 0: no fit; 1: rotated 2D Gaussian + constant; 2: rotated 2D Lorentzian + constant.
    pub fit_peaks_gaussian: u8,
    /// Relative parameter tolerance of the Levenberg–Marquardt fit (MINPACK xtol).
    pub xtol: f64,
    /// Reject fits whose centre moved more than this from the local maximum (px).
    #[serde(rename = "FitPixelDev")]
    pub fit_pixel_dev: f64,
    /// Reject fits whose amplitude (above background) is ≤ this (counts).
    #[serde(rename = "MinIntensity")]
    pub min_intensity: f64,
    /// Reject fits whose larger σ is ≤ min or ≥ max (px).
    #[serde(rename = "PeakSizeRange")]
    pub peak_size_range: (f64, f64),
    /// Which image the maxima are searched in: "auto_background" or null/"raw".
    #[serde(
        rename = "Data_for_localMaxima",
        deserialize_with = "de_local_maxima",
        serialize_with = "ser_local_maxima"
    )]
    pub data_for_local_maxima: LocalMaximaData,
    /// Background formula "A-B" or "A-k*B" (ignored for MarCCD-type detectors, as in LaueTools).
    pub formulaexpression: String,
    /// More local maxima than this (≥) is an error (LaueTools returns nothing).
    #[serde(rename = "NumberMaxofFits")]
    pub number_max_of_fits: usize,
    /// Reject fits whose amplitude is ≥ this (counts).
    #[serde(rename = "Saturation_value")]
    pub saturation_value: f64,
    /// Accepted for compatibility; used by LaueTools' method 1 only.
    #[serde(rename = "Saturation_value_flatpeak")]
    pub saturation_value_flatpeak: f64,
    /// sCMOS quadrant gaps: drop maxima with 0-based X or Y in [1007 − n, 1009 + n] (0: off).
    pub npixels: usize,
    /// Method 2: threshold on the convolved image.
    #[serde(rename = "thresholdConvolve")]
    pub threshold_convolve: f64,
    /// Method 2: (peak value, kernel size, central radius) of the kernel.
    #[serde(rename = "paramsHat")]
    pub params_hat: (f64, usize, f64),
    /// Reject fits whose background is below the box minimum.
    pub reject_negative_baseline: bool,
    /// Remove the weaker of two peaks closer than `boxsize`.
    #[serde(rename = "purgeDuplicates")]
    pub purge_duplicates: bool,
}

impl Default for PeakSearchParams {
    fn default() -> Self {
        PeakSearchParams {
            local_maxima_search_method: 0,
            intensity_threshold: 400.0,
            pixel_near_radius: 5,
            removeedge: 2,
            boxsize: 15,
            position_definition: 1,
            fit_peaks_gaussian: 1,
            xtol: 1e-5,
            fit_pixel_dev: 25.0,
            min_intensity: 0.0,
            peak_size_range: (0.65, 200.0),
            data_for_local_maxima: LocalMaximaData::AutoBackground,
            formulaexpression: "A-1.1*B".into(),
            number_max_of_fits: 5000,
            saturation_value: 65535.0,
            saturation_value_flatpeak: 65535.0,
            npixels: 10,
            threshold_convolve: 200.0,
            params_hat: (4.0, 5, 2.0),
            reject_negative_baseline: true,
            purge_duplicates: true,
        }
    }
}

fn de_local_maxima<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<LocalMaximaData, D::Error> {
    let v: Option<String> = Option::deserialize(d)?;
    match v.as_deref() {
        Some("auto_background") => Ok(LocalMaximaData::AutoBackground),
        None | Some("") | Some("raw") | Some("None") => Ok(LocalMaximaData::Raw),
        Some(other) => Err(serde::de::Error::custom(format!(
            "Data_for_localMaxima '{other}': use \"auto_background\" or null (a background image file is not supported yet)"
        ))),
    }
}

fn ser_local_maxima<S: serde::Serializer>(v: &LocalMaximaData, s: S) -> std::result::Result<S::Ok, S::Error> {
    match v {
        LocalMaximaData::AutoBackground => s.serialize_str("auto_background"),
        LocalMaximaData::Raw => s.serialize_none(),
    }
}

impl PeakSearchParams {
    /// From a JSON object of LaueTools `PeakSearch` keyword arguments; unknown keys are errors.
    pub fn from_json(text: &str, file: &str) -> Result<Self> {
        let p: Self = serde_json::from_str(crate::io::text::strip_bom(text))
            .map_err(|e| LaueError::parse(file, e.to_string()))?;
        p.validated().map_err(|e| LaueError::parse(file, e.to_string()))
    }

    /// From a LaueTools `.psp` file: INI as Python's configparser reads it (section `[PeakSearch]`, keys
    /// in any case, `key = value` or `key: value`, `#`/`;` comment lines). A text without a `[PeakSearch]`
    /// section is refused (it is not a .psp file: running with the defaults would be a silent wrong
    /// answer).
    pub fn from_psp(text: &str, file: &str) -> Result<Self> {
        let text = crate::io::text::strip_bom(text);
        let mut p = PeakSearchParams::default();
        let (mut min_size, mut max_size) = (None, None);
        let mut in_section = false;
        let mut found_section = false;
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                in_section = line.eq_ignore_ascii_case("[PeakSearch]");
                found_section |= in_section;
                continue;
            }
            if !in_section {
                continue;
            }
            let (k, v) = line.split_once(['=', ':']).ok_or_else(|| {
                LaueError::parse(file, format!("line {}: expected 'key = value' in [PeakSearch]", n + 1))
            })?;
            let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
            let num = || -> Result<f64> {
                v.parse::<f64>().map_err(|_| {
                    LaueError::parse(file, format!("line {}: {k} = '{v}' is not a number", n + 1))
                })
            };
            let int = || -> Result<usize> {
                let x = num()?;
                if x < 0.0 || x.fract() != 0.0 {
                    return Err(LaueError::parse(
                        file,
                        format!("line {}: {k} = '{v}' must be a whole number", n + 1),
                    ));
                }
                Ok(x as usize)
            };
            // A small code (method, fit model, convention): a value that does not fit a byte is refused rather
            // than wrapped (258 must not become 2).
            let code = || -> Result<u8> {
                let x = int()?;
                u8::try_from(x).map_err(|_| {
                    LaueError::parse(file, format!("line {}: {k} = '{v}' is not one of its codes", n + 1))
                })
            };
            match k.as_str() {
                "intensitythreshold" => p.intensity_threshold = num()?,
                "pixelnearradius" => p.pixel_near_radius = int()?,
                "boxsize" => p.boxsize = int()?,
                "xtol" => p.xtol = num()?,
                "fitpixeldev" => p.fit_pixel_dev = num()?,
                "maxintensity" => {
                    p.saturation_value = num()?;
                    p.saturation_value_flatpeak = p.saturation_value;
                }
                "minintensity" => p.min_intensity = num()?,
                "minpeaksize" => min_size = Some(num()?),
                "maxpeaksize" => max_size = Some(num()?),
                "fit_peaks_gaussian" => p.fit_peaks_gaussian = code()?,
                "local_maxima_search_method" => p.local_maxima_search_method = code()?,
                "position_definition" => p.position_definition = code()?,
                "thresholdconvolve" => p.threshold_convolve = num()?,
                "npixels_bandgap" => p.npixels = int()?,
                // Settings of LaueTools' other peak finders (skimage) and of its GUI: not PeakSearch's.
                k if k.starts_with("skimage")
                    || k == "use_skimage"
                    || k == "boxsizeskimage"
                    || k == "maxpixeldistancerejection" => {}
                other => {
                    return Err(LaueError::parse(file, format!("line {}: unknown key '{other}'", n + 1)));
                }
            }
        }
        if !found_section {
            let hint = if text.trim_start().starts_with('{') {
                " (this looks like JSON: give a JSON of PeakSearch keywords with --params)"
            } else {
                ""
            };
            return Err(LaueError::parse(
                file,
                format!("no [PeakSearch] section: not a LaueTools .psp peak-search file{hint}"),
            ));
        }
        // The .psp route of LaueTools has no band cut unless npixels_bandgap is given.
        if !text.to_ascii_lowercase().contains("npixels_bandgap") {
            p.npixels = 0;
        }
        p.peak_size_range = (min_size.unwrap_or(0.65), max_size.unwrap_or(3.0));
        p.validated().map_err(|e| LaueError::parse(file, e.to_string()))
    }

    /// Checks values that would make the search meaningless.
    pub fn validated(self) -> Result<Self> {
        let bad = |m: String| Err(LaueError::settings(Stage::PeakSearch, m));
        if !matches!(self.local_maxima_search_method, 0 | 2) {
            return bad(format!(
                "local_maxima_search_method {}: use 0 (threshold) or 2 (convolution)",
                self.local_maxima_search_method
            ));
        }
        if self.boxsize == 0 || self.boxsize > 200 {
            return bad(format!("boxsize {}: use 1..=200 px", self.boxsize));
        }
        if self.xtol.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            return bad(format!("xtol {} must be > 0", self.xtol));
        }
        if self.fit_peaks_gaussian > 2 {
            return bad(format!(
                "fit_peaks_gaussian {}: 0 (none), 1 (Gaussian) or 2 (Lorentzian)",
                self.fit_peaks_gaussian
            ));
        }
        if self.position_definition > 1 {
            return bad(format!("position_definition {}: 0 or 1", self.position_definition));
        }
        let nums = [
            ("IntensityThreshold", self.intensity_threshold),
            ("xtol", self.xtol),
            ("FitPixelDev", self.fit_pixel_dev),
            ("MinIntensity", self.min_intensity),
            ("Saturation_value", self.saturation_value),
            ("Saturation_value_flatpeak", self.saturation_value_flatpeak),
            ("thresholdConvolve", self.threshold_convolve),
            ("PeakSizeRange[0]", self.peak_size_range.0),
            ("PeakSizeRange[1]", self.peak_size_range.1),
            ("paramsHat[0]", self.params_hat.0),
            ("paramsHat[2]", self.params_hat.2),
        ];
        if let Some((name, v)) = nums.iter().find(|(_, v)| !v.is_finite()) {
            return bad(format!("{name} = {v}: need a finite number"));
        }
        if self.fit_pixel_dev < 0.0 {
            return bad(format!(
                "FitPixelDev = {}: need a distance ≥ 0 px (fits whose centre moves farther are rejected)",
                self.fit_pixel_dev
            ));
        }
        let (lo, hi) = self.peak_size_range;
        if lo < 0.0 || hi <= lo {
            return bad(format!("PeakSizeRange = [{lo}, {hi}]: need 0 ≤ min < max (px)"));
        }
        if self.saturation_value <= 0.0 {
            return bad(format!("Saturation_value = {}: need > 0 counts", self.saturation_value));
        }
        if self.params_hat.1 == 0 || self.params_hat.2 <= 0.0 {
            return bad(format!(
                "paramsHat = [{}, {}, {}]: need a kernel size ≥ 1 px and a radius > 0 px",
                self.params_hat.0, self.params_hat.1, self.params_hat.2
            ));
        }
        crate::limits::KERNEL_PX.check_with(
            "paramsHat kernel size (px)",
            self.params_hat.1 as u64,
            "LaueTools uses 5",
        )?;
        crate::limits::NEAR_RADIUS_PX.check("PixelNearRadius (px)", self.pixel_near_radius as u64)?;
        self.background_factor()?;
        Ok(self)
    }

    /// k of the formula "A-k*B" ("A-B": 1).
    pub fn background_factor(&self) -> Result<f32> {
        let f: String = self.formulaexpression.chars().filter(|c| !c.is_whitespace()).collect();
        if f == "A-B" {
            return Ok(1.0);
        }
        if let Some(Ok(k)) = f.strip_prefix("A-").and_then(|r| r.strip_suffix("*B")).map(str::parse::<f32>) {
            return Ok(k);
        }
        Err(LaueError::settings(
            Stage::PeakSearch,
            format!(
                "formulaexpression '{}': supported forms are \"A-B\" and \"A-k*B\"",
                self.formulaexpression
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lauetools_keyword_files_map_one_to_one() {
        let json = r#"{"local_maxima_search_method": 0, "IntensityThreshold": 70, "PixelNearRadius": 10, "removeedge": 2,
            "boxsize": 10, "position_definition": 1, "fit_peaks_gaussian": 1, "xtol": 0.001, "FitPixelDev": 15,
            "MinIntensity": 0, "PeakSizeRange": [0.65, 200], "Data_for_localMaxima": "auto_background",
            "formulaexpression": "A-B", "NumberMaxofFits": 3000}"#;
        let p = PeakSearchParams::from_json(json, "peaksearch.json").unwrap();
        assert_eq!(
            (p.intensity_threshold, p.boxsize, p.fit_pixel_dev, p.number_max_of_fits),
            (70.0, 10, 15.0, 3000)
        );
        assert_eq!(p.peak_size_range, (0.65, 200.0));
        assert_eq!(p.background_factor().unwrap(), 1.0);
        let e =
            PeakSearchParams::from_json(r#"{"IntensityTreshold": 5}"#, "typo.json").unwrap_err().to_string();
        assert!(e.contains("typo.json") && e.contains("IntensityTreshold"), "{e}");
        let e = PeakSearchParams::from_json(r#"{"formulaexpression": "log(A)"}"#, "f.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("log(A)"), "{e}");
    }

    #[test]
    fn psp_files() {
        let psp = "[PeakSearch]\nintensitythreshold = 50\npixelnearradius = 10\nboxsize = 15\nxtol = 0.001\nfitpixeldev = 6.0\n\
                   maxintensity = 65534.0\nminintensity = 0.0\nmaxpeaksize = 3.0\nminpeaksize = 0.4\nboxsizeskimage = 15\n\
                   fit_peaks_gaussian = 1\nlocal_maxima_search_method = 0\nposition_definition = 1\n";
        let p = PeakSearchParams::from_psp(psp, "x.psp").unwrap();
        assert_eq!(
            (p.intensity_threshold, p.boxsize, p.saturation_value, p.peak_size_range),
            (50.0, 15, 65534.0, (0.4, 3.0))
        );
        assert_eq!(p.npixels, 0);
        // configparser's other spellings: a BOM, `key: value`, keys in any case, use_skimage.
        let alt = format!("\u{feff}; saved by hand\n{}", psp.replace("boxsize = 15", "BoxSize: 12"))
            + "use_skimage = False\n";
        assert_eq!(PeakSearchParams::from_psp(&alt, "alt.psp").unwrap().boxsize, 12);
        for text in ["{\"IntensityThreshold\": 50}", "[IndexRefine]\nboxsize = 3\n", ""] {
            let e = PeakSearchParams::from_psp(text, "n.psp").unwrap_err().to_string();
            assert!(e.starts_with("n.psp: no [PeakSearch] section"), "{e}");
        }
        assert!(
            PeakSearchParams::from_psp("[PeakSearch]\nboxsize = ten\n", "b.psp")
                .unwrap_err()
                .to_string()
                .contains("b.psp")
        );
    }
}
