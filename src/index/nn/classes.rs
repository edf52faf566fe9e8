//! Output classes of the hkl predictor: the hkl *families* of one or more materials.
//!
//! As LaueNN: a class is one family of lattice planes up to a maximum index — only allowed reflections
//! (the material's selection rule), harmonics n·(hkl) merged into their fundamental (the lowest allowed
//! multiple of the primitive direction, which is what lands on that pixel first), and the symmetry-equivalent
//! hkl of the Laue group merged (Friedel pairs included). Several materials' classes are concatenated
//! (multi-phase models); each class knows its material and a representative hkl. Classes too rare in the
//! training data are dropped afterwards ([`ClassTable::retain`]).

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::crystal::{LaueGroup, Material};
use crate::error::{LaueError, Result, Stage};

/// One output class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HklClass {
    /// index into [`ClassTable::materials`]
    pub material: usize,
    /// representative member of the family (the largest in lexicographic order, e.g. (1, 1, 1), (2, 0, 0))
    pub hkl: [i32; 3],
    /// number of distinct hkl in the family (Friedel pairs included)
    pub multiplicity: usize,
}

/// The classes of one or more materials, concatenated in material order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassTable {
    /// material names, in the order their classes appear
    pub materials: Vec<String>,
    /// largest |h|, |k|, |l| of a class's fundamental hkl, per material
    pub max_index: Vec<i32>,
    pub classes: Vec<HklClass>,
    /// per material: every member of every kept family → class id
    #[serde(skip)]
    lookup: Vec<HashMap<[i32; 3], usize>>,
    /// per material: the selection rule, to reduce harmonics (rebuilt with the materials)
    #[serde(skip)]
    rules: Vec<Material>,
}

impl ClassTable {
    /// The families of each material with fundamental indices up to `max_index` (one value for all, or one
    /// per material).
    pub fn new(materials: &[Material], max_index: &[i32]) -> Result<Self> {
        let bad = |m: String| Err(LaueError::settings(Stage::Training, m));
        if materials.is_empty() {
            return bad("no material: hkl classes need at least one".into());
        }
        let (Some(&last), true) =
            (max_index.last(), max_index.len() == 1 || max_index.len() == materials.len())
        else {
            return bad(format!(
                "max_index: give one maximum hkl index or one per material ({} materials, {} values)",
                materials.len(),
                max_index.len()
            ));
        };
        let max_index: Vec<i32> =
            (0..materials.len()).map(|i| max_index.get(i).copied().unwrap_or(last)).collect();
        if let Some(&m) = max_index.iter().find(|&&m| !(1..=MAX_INDEX).contains(&m)) {
            return bad(format!("max_index {m}: need 1..={MAX_INDEX}"));
        }
        let mut classes = Vec::new();
        for (mi, (mat, &n)) in materials.iter().zip(&max_index).enumerate() {
            let ops = operators(mat)?;
            let mut seen: HashSet<[i32; 3]> = HashSet::new();
            let mut fam: Vec<HklClass> = Vec::new();
            for h in -n..=n {
                for k in -n..=n {
                    for l in -n..=n {
                        let hkl = [h, k, l];
                        if hkl == [0, 0, 0] || fundamental(mat, hkl) != Some(hkl) || seen.contains(&hkl) {
                            continue;
                        }
                        let members = LaueGroup::equivalent_hkls(&ops, hkl);
                        for m in &members {
                            seen.insert(*m);
                        }
                        // A family is kept when any member lies in the index cube (hexagonal operators mix h, k
                        // into −h−k, so other members may lie outside); the look-up knows all members.
                        let rep = *members.iter().max().unwrap_or(&hkl);
                        fam.push(HklClass { material: mi, hkl: rep, multiplicity: members.len() });
                    }
                }
            }
            fam.sort_by_key(|c| key(c.hkl));
            classes.extend(fam);
        }
        let mut t = ClassTable {
            materials: materials.iter().map(|m| m.name.clone()).collect(),
            max_index,
            classes,
            lookup: Vec::new(),
            rules: Vec::new(),
        };
        t.attach(materials)?;
        Ok(t)
    }

    /// Rebuilds the hkl → class look-up after deserialisation; `materials` must be the table's, in order.
    /// Every class must name one of the table's materials and a nonzero hkl of at most
    /// [`MAX_CLASS_HKL`] in magnitude (a class table read from a file is checked here).
    pub fn attach(&mut self, materials: &[Material]) -> Result<()> {
        let bad = |m: String| Err(LaueError::settings(Stage::Indexing, format!("class table: {m}")));
        if materials.len() != self.materials.len()
            || materials.iter().zip(&self.materials).any(|(m, n)| &m.name != n)
        {
            return bad(format!(
                "it is for materials [{}], not [{}]",
                self.materials.join(", "),
                materials.iter().map(|m| m.name.as_str()).collect::<Vec<_>>().join(", ")
            ));
        }
        if self.max_index.len() != self.materials.len() {
            return bad(format!(
                "max_index has {} values for {} materials",
                self.max_index.len(),
                self.materials.len()
            ));
        }
        for (id, c) in self.classes.iter().enumerate() {
            if c.material >= materials.len() {
                return bad(format!(
                    "class {id} names material {}, but the materials are [{}] (numbered from 0)",
                    c.material,
                    self.materials.join(", ")
                ));
            }
            if c.hkl == [0, 0, 0] || c.hkl.iter().any(|v| v.unsigned_abs() > MAX_CLASS_HKL) {
                return bad(format!(
                    "class {id} has hkl ({} {} {}): need a nonzero hkl within ±{MAX_CLASS_HKL}",
                    c.hkl[0], c.hkl[1], c.hkl[2]
                ));
            }
        }
        let mut lookup = vec![HashMap::new(); materials.len()];
        for (id, c) in self.classes.iter().enumerate() {
            let Some(mat) = materials.get(c.material) else { continue }; // checked above
            let ops = operators(mat)?;
            for m in LaueGroup::equivalent_hkls(&ops, c.hkl) {
                lookup[c.material].insert(m, id);
            }
        }
        self.lookup = lookup;
        self.rules = materials.to_vec();
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.classes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The class of a simulated reflection `hkl` (any harmonic, any member of the family) of material
    /// `material` (index into [`Self::materials`]); None when its family is beyond the index limit or dropped.
    pub fn class_of(&self, material: usize, hkl: [i32; 3]) -> Option<usize> {
        let mat = self.rules.get(material)?;
        let f = fundamental(mat, hkl)?;
        self.lookup.get(material)?.get(&f).copied()
    }

    /// Keeps the classes with `keep[id]`; returns the map old id → new id (None for dropped classes).
    pub fn retain(&mut self, keep: &[bool]) -> Vec<Option<usize>> {
        let mut map = vec![None; self.classes.len()];
        let mut kept = Vec::new();
        for (id, c) in self.classes.iter().enumerate() {
            if keep.get(id).copied().unwrap_or(false) {
                map[id] = Some(kept.len());
                kept.push(c.clone());
            }
        }
        self.classes = kept;
        for table in &mut self.lookup {
            table.retain(|_, id| map[*id].is_some());
            for id in table.values_mut() {
                *id = map[*id].unwrap_or(usize::MAX);
            }
        }
        map
    }

    /// "Cu (1 1 1)"-style label of a class ("class N" for an id beyond the table).
    pub fn label(&self, id: usize) -> String {
        let Some(c) = self.classes.get(id) else { return format!("class {id}") };
        let name = self.materials.get(c.material).map_or("?", String::as_str);
        format!("{name} ({} {} {})", c.hkl[0], c.hkl[1], c.hkl[2])
    }
}

/// Largest maximum hkl index of a class table (LaueNN's models use 5 to 10).
pub const MAX_INDEX: i32 = 30;

/// Largest |h|, |k|, |l| of a class's representative (hexagonal families of index ≤ [`MAX_INDEX`] reach
/// 2·MAX_INDEX through −h−k; the margin keeps every symmetry product far from overflowing).
pub const MAX_CLASS_HKL: u32 = 1000;

fn operators(mat: &Material) -> Result<Vec<[[i32; 3]; 3]>> {
    if mat.hkl_operators.is_empty() {
        mat.laue_group.hkl_operators(&mat.lattice)
    } else {
        Ok(mat.hkl_operators.clone())
    }
}

/// Families ordered by their representative's largest index, then by hkl (low orders first).
fn key(h: [i32; 3]) -> (i32, i32, [i32; 3]) {
    let a = h.map(i32::abs);
    (a.iter().copied().max().unwrap_or(0), a.iter().sum(), [-h[0], -h[1], -h[2]])
}

/// The fundamental reflection on the ray of `hkl`: the lowest multiple of the primitive direction that the
/// selection rule allows (None if no multiple up to the given one is allowed, i.e. `hkl` itself is forbidden).
pub fn fundamental(mat: &Material, hkl: [i32; 3]) -> Option<[i32; 3]> {
    let g = gcd(gcd(hkl[0].unsigned_abs(), hkl[1].unsigned_abs()), hkl[2].unsigned_abs()) as i32;
    if g == 0 {
        return None;
    }
    let p = hkl.map(|v| v / g);
    (1..=g).map(|m| p.map(|v| v * m)).find(|&c| mat.rule.allows(c))
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cu() -> Material {
        Material::from_table("Cu").unwrap()
    }

    #[test]
    fn attach_refuses_a_class_table_read_wrong() {
        let good = ClassTable::new(&[cu()], &[3]).unwrap();
        let json = serde_json::to_string(&good).unwrap();
        let attach = |edit: &dyn Fn(&mut ClassTable)| {
            let mut t: ClassTable = serde_json::from_str(&json).unwrap();
            edit(&mut t);
            t.attach(&[cu()]).err().map(|e| e.to_string())
        };
        assert_eq!(attach(&|_| {}), None);
        let e = attach(&|t| t.classes[2].material = 4).unwrap();
        assert!(e.contains("class 2 names material 4, but the materials are [Cu] (numbered from 0)"), "{e}");
        let e = attach(&|t| t.classes[0].hkl = [0, 0, 0]).unwrap();
        assert!(e.contains("class 0 has hkl (0 0 0)"), "{e}");
        let e = attach(&|t| t.classes[1].hkl = [i32::MIN, 0, 1]).unwrap();
        assert!(e.contains("within ±1000"), "{e}");
        let e = attach(&|t| t.max_index = vec![]).unwrap();
        assert!(e.contains("max_index has 0 values for 1 materials"), "{e}");
        let mut t: ClassTable = serde_json::from_str(&json).unwrap();
        let e = t.attach(&[Material::from_table("Si").unwrap()]).unwrap_err().to_string();
        assert!(e.contains("it is for materials [Cu], not [Si]"), "{e}");
        // An id beyond the table has a label, not a panic.
        assert_eq!(good.label(999), "class 999");
    }

    #[test]
    fn new_refuses_bad_max_index_by_name() {
        let e = ClassTable::new(&[cu()], &[0]).unwrap_err().to_string();
        assert_eq!(e, "invalid training settings: max_index 0: need 1..=30");
        let e = ClassTable::new(&[cu()], &[]).unwrap_err().to_string();
        assert!(e.contains("1 materials, 0 values"), "{e}");
        let e = ClassTable::new(&[], &[3]).unwrap_err().to_string();
        assert!(e.starts_with("invalid training settings: no material"), "{e}");
    }

    #[test]
    fn cu_families_match_a_brute_force_count() {
        let t = ClassTable::new(&[cu()], &[5]).unwrap();
        // Brute force: fcc fundamentals (allowed, not a multiple of an allowed reflection) in the cube, up to
        // m-3m symmetry = sorted absolute values.
        let allowed =
            |h: [i32; 3]| h.iter().all(|v| v.rem_euclid(2) == 0) || h.iter().all(|v| v.rem_euclid(2) == 1);
        let mut fams = std::collections::BTreeSet::new();
        for h in -5i32..=5 {
            for k in -5i32..=5 {
                for l in -5i32..=5 {
                    let v = [h, k, l];
                    if v == [0, 0, 0] || !allowed(v) {
                        continue;
                    }
                    let harmonic = (2..=5).any(|n| {
                        v.iter().all(|x| x % n == 0)
                            && allowed([h / n, k / n, l / n])
                            && [h / n, k / n, l / n] != [0, 0, 0]
                    });
                    if harmonic {
                        continue;
                    }
                    let mut a = v.map(i32::abs);
                    a.sort_unstable();
                    fams.insert(a);
                }
            }
        }
        assert_eq!(t.len(), fams.len());
        assert_eq!(t.len(), 13);
        assert_eq!(t.classes[0].hkl, [1, 1, 1]);
        assert_eq!(t.classes[0].multiplicity, 8);
        assert_eq!(t.classes[1].hkl, [2, 0, 0]);
        // harmonics and equivalents share the class
        let c111 = t.class_of(0, [1, 1, 1]).unwrap();
        assert_eq!(t.class_of(0, [-2, 2, -2]), Some(c111));
        assert_eq!(t.class_of(0, [3, -3, 3]), Some(c111));
        let c200 = t.class_of(0, [0, 0, -2]).unwrap();
        assert_eq!(t.class_of(0, [0, 6, 0]), Some(c200));
        assert_ne!(c111, c200);
        // (1 0 0) is forbidden in fcc; (7 1 1) is beyond the limit
        assert_eq!(t.class_of(0, [1, 0, 0]), None);
        assert_eq!(t.class_of(0, [7, 1, 1]), None);
    }

    #[test]
    fn multi_phase_tables_concatenate_and_retain_remaps() {
        let si = Material::from_table("Si").unwrap();
        let mut t = ClassTable::new(&[cu(), si], &[4]).unwrap();
        let n_cu = t.classes.iter().filter(|c| c.material == 0).count();
        assert!(n_cu > 0 && t.len() > n_cu);
        // diamond: (2 0 0) is forbidden, (4 0 0) is its fundamental
        let c400 = t.class_of(1, [2, 0, 0]);
        assert_eq!(c400, None);
        let c400 = t.class_of(1, [0, -4, 0]).unwrap();
        assert_eq!(t.classes[c400].hkl, [4, 0, 0]);
        assert!(c400 >= n_cu);
        let keep: Vec<bool> = (0..t.len()).map(|i| i != 0).collect();
        let map = t.retain(&keep);
        assert_eq!(map[0], None);
        assert_eq!(t.class_of(0, [1, 1, 1]), None);
        assert_eq!(t.class_of(1, [4, 0, 0]), map[c400]);
        let json = serde_json::to_string(&t).unwrap();
        let mut back: ClassTable = serde_json::from_str(&json).unwrap();
        back.attach(&[cu(), Material::from_table("Si").unwrap()]).unwrap();
        assert_eq!(back.class_of(1, [4, 0, 0]), map[c400]);
    }
}
