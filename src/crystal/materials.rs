//! Materials: a lattice, a selection rule and a Laue group, with a built-in table.
//!
//! Where LaueTools' `dict_Materials` has a material, the table uses LaueTools' lattice and rule so that
//! simulations compare one to one (e.g. Cu a = 3.6 Å rather than 3.6149 Å); users can override the lattice
//! or the rule, or define their own material ([`super::catalog`]: materials files, command-line flags).
//!
//! The rows after LaueTools' are materials of common Laue work with room-temperature lattice parameters and
//! the reference they come from. Their selection rule is the space group's reflection conditions (`sg`)
//! unless the structure forbids more (diamond's `dia`: 200 and 222 absent; hcp metals' `hcp`: h − k = 3n
//! with l odd absent). Ordered alloys (L1₂, L2₁, DO3) keep their superlattice reflections: the rule is the
//! lattice's, not the disordered parent's.

use serde::{Deserialize, Serialize};

use super::extinction::SelectionRule;
use super::lattice::Lattice;
use super::symmetry::LaueGroup;
use crate::error::{LaueError, Result};

/// A crystalline phase ready for simulation and indexing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Material {
    /// Name used on the command line and in files (LaueTools' key where it has one).
    pub name: String,
    pub lattice: Lattice,
    /// Which hkl reflect.
    pub rule: SelectionRule,
    /// Space group number (1..=230), when known.
    pub space_group: Option<u32>,
    pub laue_group: LaueGroup,
    /// Where the values come from.
    pub source: String,
    /// Integer hkl operators of the Laue group (proper rotations), for hkl families.
    #[serde(skip)]
    pub hkl_operators: Vec<[[i32; 3]; 3]>,
}

/// One row of the built-in table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MaterialEntry {
    pub name: &'static str,
    /// a, b, c (Å), α, β, γ (deg)
    pub lattice: [f64; 6],
    /// LaueTools rule name, one of ours, reflection conditions, or `sg`: the space group's conditions.
    pub rule: &'static str,
    pub space_group: u32,
    pub structure: &'static str,
    /// "LaueTools" when lattice and rule are LaueTools' own (results compare one to one).
    pub source: &'static str,
}

/// The built-in table. `source = "LaueTools"`: values and rule copied from LaueTools 3.2.19 `dict_Materials`.
pub const MATERIALS: &[MaterialEntry] = &[
    e("Cu", [3.6, 3.6, 3.6, 90.0, 90.0, 90.0], "fcc", 225, "fcc metal", LT),
    e("Al", [4.05, 4.05, 4.05, 90.0, 90.0, 90.0], "fcc", 225, "fcc metal", LT),
    e("Ni", [3.5238, 3.5238, 3.5238, 90.0, 90.0, 90.0], "fcc", 225, "fcc metal", LT),
    e("Au", [4.078, 4.078, 4.078, 90.0, 90.0, 90.0], "fcc", 225, "fcc metal", LT),
    e("Ag", [4.085, 4.085, 4.085, 90.0, 90.0, 90.0], "fcc", 225, "fcc metal", LT),
    e("Si", [5.4309, 5.4309, 5.4309, 90.0, 90.0, 90.0], "dia", 227, "diamond", LT),
    e("Ge", [5.6575, 5.6575, 5.6575, 90.0, 90.0, 90.0], "dia", 227, "diamond", LT),
    e("W", [3.1652, 3.1652, 3.1652, 90.0, 90.0, 90.0], "bcc", 229, "bcc metal", LT),
    e("Fe", [2.856, 2.856, 2.856, 90.0, 90.0, 90.0], "bcc", 229, "bcc (α) iron", LT),
    e("Mo", [3.146, 3.146, 3.146, 90.0, 90.0, 90.0], "bcc", 229, "bcc metal", LT),
    e("Ta", [3.3058, 3.3058, 3.3058, 90.0, 90.0, 90.0], "bcc", 229, "bcc metal", LIT),
    e("Nb", [3.3004, 3.3004, 3.3004, 90.0, 90.0, 90.0], "bcc", 229, "bcc metal", LIT),
    e("GaN", [3.189, 3.189, 5.185, 90.0, 90.0, 120.0], "wurtzite", 186, "wurtzite", LT),
    e("ZnO", [3.252, 3.252, 5.213, 90.0, 90.0, 120.0], "wurtzite", 186, "wurtzite", LT),
    // LaueTools gives hcp metals no rule ("no"); use --extinction hcp for the two-atom structure factor.
    e("Ti", [2.95, 2.95, 4.68, 90.0, 90.0, 120.0], "no", 194, "hcp (α) titanium", LT),
    e("Zr", [3.24, 3.24, 5.17, 90.0, 90.0, 120.0], "no", 194, "hcp (α) zirconium", LT),
    e("Mg", [3.2095, 3.2095, 5.2104, 90.0, 90.0, 120.0], "no", 194, "hcp metal", LT),
    e("Sn", [5.8318, 5.8318, 3.1819, 90.0, 90.0, 90.0], "SG141", 141, "β (white) tin", LIT),
    e("CdTe", [6.487, 6.487, 6.487, 90.0, 90.0, 90.0], "fcc", 216, "zinc blende", LT),
    e("UO2", [5.47, 5.47, 5.47, 90.0, 90.0, 90.0], "fcc", 225, "fluorite", LT),
    e("Al2O3", [4.785, 4.785, 12.991, 90.0, 90.0, 120.0], "Al2O3", 167, "corundum (hexagonal axes)", LT),
    e("ZrO2", [5.1505, 5.2116, 5.3173, 90.0, 99.23, 90.0], "VO2_mono", 14, "monoclinic zirconia", LT),
    // Materials of common Laue work (not in LaueTools' table), room temperature.
    e(
        "BaTiO3",
        [3.992, 3.992, 4.036, 90.0, 90.0, 90.0],
        "sg",
        99,
        "perovskite, tetragonal P4mm (ferroelectric)",
        "a, c used to index the ALS 12.3.2 BaTiO3 frames by XMMLAS (github Henry-KH-chan/XMMLAS, Song et al.)",
    ),
    e(
        "quartz",
        [4.9134, 4.9134, 5.4052, 90.0, 90.0, 120.0],
        "sg",
        154,
        "α-quartz SiO2, P3₂21 (hexagonal axes)",
        "Levien, Prewitt & Weidner, Am. Mineral. 65, 920 (1980)",
    ),
    e(
        "sapphire",
        [4.7589, 4.7589, 12.991, 90.0, 90.0, 120.0],
        "sg",
        167,
        "α-Al2O3 corundum, R-3c (hexagonal axes, obverse)",
        "CRC Handbook of Chemistry and Physics (α-Al2O3); LaueTools' 'Al2O3' row uses a = 4.785 Å",
    ),
    e(
        "diamond",
        [3.56714, 3.56714, 3.56714, 90.0, 90.0, 90.0],
        "dia",
        227,
        "diamond C, Fd-3m",
        "Madelung, Semiconductors: Data Handbook, 3rd ed. (Springer 2004), 298 K",
    ),
    e("GaAs", [5.65325, 5.65325, 5.65325, 90.0, 90.0, 90.0], "fcc", 216, "zinc blende, F-43m", MADELUNG),
    e("InP", [5.8687, 5.8687, 5.8687, 90.0, 90.0, 90.0], "fcc", 216, "zinc blende, F-43m", MADELUNG),
    e("SiC-3C", [4.3596, 4.3596, 4.3596, 90.0, 90.0, 90.0], "fcc", 216, "β-SiC, zinc blende F-43m", MADELUNG),
    e("SiC-4H", [3.073, 3.073, 10.053, 90.0, 90.0, 120.0], "sg", 186, "4H-SiC, P6₃mc", MADELUNG),
    e("SiC-6H", [3.0806, 3.0806, 15.1173, 90.0, 90.0, 120.0], "sg", 186, "6H-SiC, P6₃mc", MADELUNG),
    e(
        "Fe-alpha",
        [2.8665, 2.8665, 2.8665, 90.0, 90.0, 90.0],
        "bcc",
        229,
        "ferrite, bcc Im-3m",
        "Swanson et al., NBS Circular 539 vol. 4 (1955), ICDD PDF 06-0696",
    ),
    e(
        "Fe-gamma",
        [3.59, 3.59, 3.59, 90.0, 90.0, 90.0],
        "fcc",
        225,
        "austenite, fcc Fm-3m (stainless steel; pure γ-Fe exists above 912 °C only)",
        "Dyson & Holmes, J. Iron Steel Inst. 208, 469 (1970): a = 3.578 Å + alloying terms, ≈ 3.59 Å for 316L",
    ),
    e(
        "Ni-gamma",
        [3.5238, 3.5238, 3.5238, 90.0, 90.0, 90.0],
        "fcc",
        225,
        "γ matrix of Ni superalloys, fcc Fm-3m (pure Ni; alloyed γ is 0.5–2 % larger: give --lattice)",
        "Swanson & Tatge, NBS Circular 539 vol. 1 (1953), ICDD PDF 04-0850",
    ),
    e(
        "Ni3Al",
        [3.572, 3.572, 3.572, 90.0, 90.0, 90.0],
        "sg",
        221,
        "γ′ of Ni superalloys, L1₂ Pm-3m (superlattice 100, 110 allowed)",
        "Pearson's Handbook of Crystallographic Data (Villars & Calvert); Stoloff, Int. Mater. Rev. 34, 153 (1989)",
    ),
    e(
        "Zr-alpha",
        [3.232, 3.232, 5.147, 90.0, 90.0, 120.0],
        "hcp",
        194,
        "α-Zr, hcp P6₃/mmc (two-atom structure factor)",
        "Swanson & Fuyat, NBS Circular 539 vol. 2 (1953), ICDD PDF 05-0665",
    ),
    e(
        "Ti-alpha",
        [2.9505, 2.9505, 4.6826, 90.0, 90.0, 120.0],
        "hcp",
        194,
        "α-Ti, hcp P6₃/mmc (two-atom structure factor)",
        "ICDD PDF 44-1294",
    ),
    e(
        "Ti-beta",
        [3.3065, 3.3065, 3.3065, 90.0, 90.0, 90.0],
        "bcc",
        229,
        "β-Ti, bcc Im-3m (stabilised at RT by alloying)",
        "ICDD PDF 44-1288",
    ),
    e(
        "CuAlNi",
        [5.836, 5.836, 5.836, 90.0, 90.0, 90.0],
        "fcc",
        225,
        "β1 austenite of Cu–Al–Ni shape-memory alloys, DO3 Fm-3m (B2/DO3 superlattice spots kept)",
        "Otsuka & Wayman (eds.), Shape Memory Materials (CUP 1998), Cu-14Al-4Ni (wt %)",
    ),
    e(
        "CuAlMn",
        [5.87, 5.87, 5.87, 90.0, 90.0, 90.0],
        "fcc",
        225,
        "β austenite of Cu–Al–Mn shape-memory alloys, L2₁ Fm-3m (Heusler order)",
        "Kainuma, Takahashi & Ishida, Metall. Mater. Trans. A 27, 2187 (1996)",
    ),
    e(
        "AuCuZn",
        [6.1606, 6.1606, 6.1606, 90.0, 90.0, 90.0],
        "fcc",
        225,
        "Au30Cu25Zn45 austenite, L2₁ Fm-3m",
        "Song, Chen, Dabade, Shield & James, Nature 502, 85 (2013)",
    ),
];

const MADELUNG: &str = "Madelung, Semiconductors: Data Handbook, 3rd ed. (Springer 2004), 300 K";

const LT: &str = "LaueTools";
const LIT: &str = "literature (not in LaueTools' table)";

const fn e(
    name: &'static str,
    lattice: [f64; 6],
    rule: &'static str,
    space_group: u32,
    structure: &'static str,
    source: &'static str,
) -> MaterialEntry {
    MaterialEntry { name, lattice, rule, space_group, structure, source }
}

impl MaterialEntry {
    /// The material of this row.
    pub fn material(&self) -> Result<Material> {
        let lattice = Lattice::new(self.lattice)?;
        let mut m = if self.rule == "sg" {
            Material::custom(self.name, lattice, RuleSpec::SpaceGroup(self.space_group))?.0
        } else {
            let laue_group = LaueGroup::of_space_group(self.space_group)?;
            Material::build(self.name, lattice, laue_group, RuleSpec::Named(self.rule.into()))?
        };
        m.space_group = Some(self.space_group);
        m.source = self.source.to_string();
        Ok(m)
    }
}

/// How the user named the selection rule of a material.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleSpec {
    /// A LaueTools rule name, one of ours (`hcp`, centring letters) or condition text.
    Named(String),
    /// A space group number: its tabulated reflection conditions over its Laue group.
    SpaceGroup(u32),
}

impl Material {
    /// A material from the built-in table (name matched case-insensitively).
    pub fn from_table(name: &str) -> Result<Self> {
        let entry = MATERIALS.iter().find(|m| m.name.eq_ignore_ascii_case(name.trim())).ok_or_else(|| {
            LaueError::UnknownMaterial(
                name.to_string(),
                MATERIALS.iter().map(|m| m.name).collect::<Vec<_>>().join(", "),
            )
        })?;
        entry.material()
    }

    /// A material from its lattice, space group and/or selection rule (what a materials file or the
    /// command line gives): with a space group, the Laue group is its class and the rule its reflection
    /// conditions unless `rule` names another (e.g. SG 227 with `dia`: diamond's structure-factor absences
    /// on top of Fd-3m's); with a rule alone, the Laue group is the highest the cell metric allows.
    /// Returns the material and an optional note for the user (conditions that are not tabulated).
    pub fn define(
        name: &str,
        lattice: Lattice,
        space_group: Option<u32>,
        rule: Option<&str>,
    ) -> Result<(Self, Option<String>)> {
        let name = name.trim();
        if name.is_empty() {
            return Err(LaueError::InvalidMaterial {
                material: String::new(),
                reason: "a material needs a name".into(),
            });
        }
        match (space_group, rule.map(str::trim)) {
            (Some(n), None) => Material::custom(name, lattice, RuleSpec::SpaceGroup(n)),
            (Some(n), Some(r)) => {
                if let RuleSpec::SpaceGroup(k) = RuleSpec::parse(r) {
                    if k != n {
                        return Err(LaueError::InvalidMaterial {
                            material: name.to_string(),
                            reason: format!(
                                "space group {n} and extinction '{r}' (space group {k}) disagree"
                            ),
                        });
                    }
                    return Material::custom(name, lattice, RuleSpec::SpaceGroup(n));
                }
                let laue_group = LaueGroup::of_space_group(n)?;
                let mut m = Self::build(name, lattice, laue_group, RuleSpec::Named(r.to_string()))?;
                m.space_group = Some(n);
                Ok((m, None))
            }
            (None, Some(r)) => Material::custom(name, lattice, RuleSpec::parse(r)),
            (None, None) => Err(LaueError::InvalidMaterial {
                material: name.to_string(),
                reason: "give a space group (1–230) or a selection rule (extinction) with the lattice".into(),
            }),
        }
    }

    /// The operators and the rule rebuilt after deserialisation (a model file, a request): the Laue group's
    /// hkl operators are not stored, and the rule is parsed again from its condition text. Errors when the
    /// Laue group does not fit the lattice or the conditions do not parse.
    pub fn restore(&mut self) -> Result<()> {
        Lattice::new(self.lattice.params())?;
        self.hkl_operators = self.laue_group.hkl_operators(&self.lattice)?;
        self.rule = self.rule.rebuilt(&self.hkl_operators)?;
        Ok(())
    }

    /// A user-defined material. With a space group, its Laue group and reflection conditions follow from the
    /// number; with a named rule, the Laue group is the highest the cell metric allows.
    /// Returns the material and an optional note for the user (e.g. conditions that are not tabulated).
    pub fn custom(name: &str, lattice: Lattice, rule: RuleSpec) -> Result<(Self, Option<String>)> {
        match rule {
            RuleSpec::SpaceGroup(n) => {
                let laue_group = LaueGroup::of_space_group(n)?;
                let ops = laue_group.hkl_operators(&lattice)?;
                let (rule, note) = SelectionRule::space_group(n, ops.clone())?;
                Ok((
                    Material {
                        name: name.to_string(),
                        lattice,
                        rule,
                        space_group: Some(n),
                        laue_group,
                        source: "user".into(),
                        hkl_operators: ops,
                    },
                    note,
                ))
            }
            named => {
                let g = LaueGroup::from_metric(&lattice);
                Ok((Self::build(name, lattice, g, named)?, None))
            }
        }
    }

    fn build(name: &str, lattice: Lattice, laue_group: LaueGroup, rule: RuleSpec) -> Result<Self> {
        let hkl_operators = laue_group.hkl_operators(&lattice)?;
        let (rule, space_group) = match rule {
            RuleSpec::Named(r) => (SelectionRule::named(&r)?, None),
            RuleSpec::SpaceGroup(n) => (SelectionRule::space_group(n, hkl_operators.clone())?.0, Some(n)),
        };
        Ok(Material {
            name: name.to_string(),
            lattice,
            rule,
            space_group,
            laue_group,
            source: "user".into(),
            hkl_operators,
        })
    }

    /// This material with another lattice (same rule; Laue group kept when the new metric allows it, else
    /// lowered to the highest the metric allows).
    pub fn with_lattice(&self, lattice: Lattice) -> Result<Self> {
        let laue_group = if self.laue_group.rotations(&lattice).is_ok() {
            self.laue_group
        } else {
            LaueGroup::from_metric(&lattice)
        };
        let hkl_operators = laue_group.hkl_operators(&lattice)?;
        let mut m = self.clone();
        m.lattice = lattice;
        m.laue_group = laue_group;
        m.hkl_operators = hkl_operators;
        m.source = "user".into();
        Ok(m)
    }

    /// This material with another selection rule.
    pub fn with_rule(&self, rule: RuleSpec) -> Result<(Self, Option<String>)> {
        match rule {
            RuleSpec::SpaceGroup(n) => Material::custom(&self.name, self.lattice, RuleSpec::SpaceGroup(n)),
            RuleSpec::Named(r) => {
                let mut m = self.clone();
                m.rule = SelectionRule::named(&r)?;
                m.source = "user".into();
                Ok((m, None))
            }
        }
    }

    /// Number of members of the hkl family of `hkl` (Friedel pairs included) under the Laue group.
    pub fn multiplicity(&self, hkl: [i32; 3]) -> usize {
        LaueGroup::equivalent_hkls(&self.hkl_operators, hkl).len()
    }
}

impl RuleSpec {
    /// "227" → space group; anything else → a named rule or conditions.
    pub fn parse(s: &str) -> Self {
        match s.trim().parse::<u32>() {
            Ok(n) => RuleSpec::SpaceGroup(n),
            Err(_) => RuleSpec::Named(s.trim().to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_entry_builds() {
        for entry in MATERIALS {
            let m = Material::from_table(entry.name).unwrap_or_else(|e| panic!("{}: {e}", entry.name));
            assert_eq!(m.hkl_operators.len(), m.laue_group.order(), "{}", entry.name);
        }
        assert!(Material::from_table("cu").is_ok());
        let err = Material::from_table("Unobtainium").unwrap_err().to_string();
        assert!(err.contains("Unobtainium") && err.contains("GaN"), "{err}");
    }

    #[test]
    fn multiplicities_follow_the_laue_group() {
        let cu = Material::from_table("Cu").unwrap();
        assert_eq!(cu.multiplicity([1, 1, 1]), 8);
        assert_eq!(cu.multiplicity([2, 0, 0]), 6);
        let zro2 = Material::from_table("ZrO2").unwrap();
        assert_eq!(zro2.laue_group, LaueGroup::Monoclinic);
        assert_eq!(zro2.multiplicity([1, 1, 1]), 4);
        assert_eq!(zro2.multiplicity([0, 1, 0]), 2);
        let al2o3 = Material::from_table("Al2O3").unwrap();
        assert_eq!(al2o3.multiplicity([1, 0, 4]), 6);
        assert_eq!(al2o3.multiplicity([1, 2, 3]), 12);
    }

    #[test]
    fn user_materials() {
        let l = Lattice::cubic(5.43).unwrap();
        let (si, note) = Material::custom("mySi", l, RuleSpec::parse("227")).unwrap();
        assert!(note.is_none());
        assert!(si.rule.allows([1, 1, 1]) && !si.rule.allows([2, 0, 0]) && si.rule.allows([4, 0, 0]));
        let (m, note) = Material::custom("x", l, RuleSpec::parse("218")).unwrap();
        assert!(note.is_some() && m.rule.allows([1, 0, 0]));
        let (c, _) = Material::custom("c", l, RuleSpec::parse("hkl: h+k=2n")).unwrap();
        assert!(!c.rule.allows([1, 0, 0]));
        // A hexagonal space group on a cubic cell is refused.
        assert!(Material::custom("bad", l, RuleSpec::parse("194")).is_err());
        let cu = Material::from_table("Cu").unwrap().with_lattice(Lattice::cubic(3.6149).unwrap()).unwrap();
        assert_eq!(cu.laue_group, LaueGroup::CubicM3m);
    }

    /// The selection rules of the materials of common Laue work, reflection by reflection (the simulator keeps
    /// a reflection exactly when `rule.allows` it): International Tables conditions and structure-factor
    /// absences.
    #[test]
    fn laue_work_materials_allow_and_forbid_the_known_reflections() {
        let check = |name: &str, allowed: &[[i32; 3]], forbidden: &[[i32; 3]]| {
            let m = Material::from_table(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            for h in allowed {
                assert!(m.rule.allows(*h), "{name}: {h:?} should be allowed");
            }
            for h in forbidden {
                assert!(!m.rule.allows(*h), "{name}: {h:?} should be absent");
            }
            // A symmetry-equivalent of a reflection gets the same verdict.
            for h in allowed.iter().chain(forbidden) {
                for g in LaueGroup::equivalent_hkls(&m.hkl_operators, *h) {
                    assert_eq!(m.rule.allows(g), m.rule.allows(*h), "{name}: {h:?} vs its equivalent {g:?}");
                }
            }
        };
        // Diamond: Fd-3m plus the structure factor's 4n+2 absences (200 and 222).
        check(
            "diamond",
            &[[1, 1, 1], [2, 2, 0], [3, 1, 1], [4, 0, 0], [3, 3, 1]],
            &[[2, 0, 0], [2, 2, 2], [1, 0, 0]],
        );
        // BaTiO3 P4mm: primitive, no glide or screw: everything reflects.
        check("BaTiO3", &[[1, 0, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [1, 1, 1], [2, 1, 0]], &[]);
        // α-quartz P3₂21: 000l with l = 3n only.
        check(
            "quartz",
            &[[0, 0, 3], [0, 0, 6], [0, 0, -3], [1, 0, 0], [1, 0, 1], [1, 1, 2], [1, 0, 2]],
            &[[0, 0, 1], [0, 0, 2], [0, 0, 4], [0, 0, -1]],
        );
        // Sapphire R-3c (hexagonal axes, obverse): −h+k+l = 3n; h−h0l: l = 2n (101 ≡ −111 absent); 000l: l = 6n.
        check(
            "sapphire",
            &[
                [0, 1, 2],
                [1, 0, 4],
                [1, 1, 0],
                [0, 0, 6],
                [1, 1, 3],
                [2, 0, 2],
                [0, 2, 4],
                [1, 1, 6],
                [3, 0, 0],
            ],
            &[[0, 0, 3], [1, 0, 1], [1, 0, 0], [0, 0, 2], [0, 0, 1], [1, 1, 1]],
        );
        // Zinc blende and the fcc-lattice (Fm-3m) phases, ordered ones included: h, k, l unmixed.
        for n in ["GaAs", "InP", "SiC-3C", "Fe-gamma", "Ni-gamma", "CuAlNi", "CuAlMn", "AuCuZn"] {
            check(
                n,
                &[[1, 1, 1], [2, 0, 0], [2, 2, 0], [3, 1, 1], [2, 2, 2]],
                &[[1, 0, 0], [1, 1, 0], [2, 1, 0]],
            );
        }
        // γ′ Ni3Al (L1₂, Pm-3m): the superlattice reflections 100 and 110 are there.
        check("Ni3Al", &[[1, 0, 0], [1, 1, 0], [1, 1, 1], [2, 1, 0]], &[]);
        // bcc: h + k + l even.
        for n in ["Fe-alpha", "Ti-beta"] {
            check(n, &[[1, 1, 0], [2, 0, 0], [2, 1, 1]], &[[1, 0, 0], [1, 1, 1], [2, 1, 0]]);
        }
        // hcp metals (two atoms at 1/3 2/3 1/4): h − k = 3n with l odd absent.
        for n in ["Zr-alpha", "Ti-alpha"] {
            check(
                n,
                &[[1, 0, 0], [0, 0, 2], [1, 0, 1], [1, 1, 0], [1, 0, 2], [1, 1, 2]],
                &[[0, 0, 1], [1, 1, 1], [0, 0, 3]],
            );
        }
        // 4H and 6H SiC, P6₃mc: hh(−2h)l and 000l with l odd absent.
        for n in ["SiC-4H", "SiC-6H"] {
            check(
                n,
                &[[1, 0, 0], [1, 0, 1], [0, 0, 2], [1, 1, 2], [0, 0, 4]],
                &[[0, 0, 1], [1, 1, 1], [0, 0, 3]],
            );
        }
        // Every `sg` row's conditions are tabulated (no "centring only" note).
        for e in MATERIALS.iter().filter(|e| e.rule == "sg") {
            let m = Material::from_table(e.name).unwrap();
            let (_, note) = SelectionRule::space_group(e.space_group, m.hkl_operators.clone()).unwrap();
            assert!(note.is_none(), "{}: {note:?}", e.name);
            assert!(m.rule.is_symmetry_expanded(), "{}", e.name);
        }
        // Every row names a source.
        assert!(MATERIALS.iter().all(|e| !e.source.trim().is_empty()));
    }

    #[test]
    fn definitions_and_restoration() {
        let l = Lattice::cubic(3.56714).unwrap();
        // A space group with another rule: Fd-3m's Laue group, diamond's absences.
        let (c, note) = Material::define("C", l, Some(227), Some("dia")).unwrap();
        assert!(note.is_none() && c.space_group == Some(227) && !c.rule.allows([2, 2, 2]));
        assert_eq!(c.rule, Material::from_table("diamond").unwrap().rule);
        assert!(Material::define("x", l, Some(227), Some("225")).is_err());
        assert!(Material::define("x", l, None, None).unwrap_err().to_string().contains("space group"));
        assert!(Material::define(" ", l, Some(225), None).is_err());
        // Through JSON (the model files), a space group's rule keeps its symmetry expansion.
        for name in ["sapphire", "quartz", "Si", "BaTiO3", "Zr-alpha"] {
            let m = Material::from_table(name).unwrap();
            let mut back: Material = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
            back.restore().unwrap();
            assert_eq!(back, m, "{name}");
        }
        // A rule whose text does not parse is refused, whatever its clauses say.
        let mut bad = Material::from_table("Cu").unwrap();
        bad.rule.conditions = "hkl: h=0n".into();
        assert!(bad.restore().is_err());
    }
}
