//! Materials: a lattice, a selection rule and a Laue group, with a built-in table.
//!
//! Where LaueTools' `dict_Materials` has a material, the table uses LaueTools' lattice and rule so that
//! simulations compare one to one (e.g. Cu a = 3.6 Å rather than 3.6149 Å); users can override the lattice
//! or the rule, or define their own material.

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
    /// LaueTools rule name or reflection conditions.
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
];

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
        let lattice = Lattice::new(entry.lattice)?;
        let laue_group = LaueGroup::of_space_group(entry.space_group)?;
        let mut m = Self::build(entry.name, lattice, laue_group, RuleSpec::Named(entry.rule.into()))?;
        m.space_group = Some(entry.space_group);
        m.source = entry.source.to_string();
        Ok(m)
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
}
