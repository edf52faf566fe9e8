//! Materials users define, and the one place names and flags become [`Material`]s.
//!
//! - [`MaterialDef`]: a material written out (name, lattice a, b, c in Å and α, β, γ in degrees, space group
//!   and/or selection rule, source) — one entry of a materials file, or a request's material.
//! - [`MaterialSpec`]: what a request carries (the pipeline's `index.materials`, a calibration's `material`):
//!   a table name (`"Ge"`) or a definition (`{"name": "BaTiO3", "lattice": [...], "spacegroup": 99}`).
//! - [`MaterialCatalog`]: the names `--material` resolves: a materials file's entries first, then the table.
//! - [`MaterialQuery`]: the command-line flags (`--material`, `--lattice`, `--spacegroup`, `--extinction`,
//!   `--name`) resolved against a catalog, for every verb that takes a material.
//!
//! A materials file is JSON (a list of entries, or `{"materials": [...]}`) or TOML (`[[materials]]` tables):
//! ```json
//! [{"name": "BaTiO3", "lattice": [3.992, 3.992, 4.036, 90, 90, 90], "spacegroup": 99,
//!   "source": "XMMLAS"},
//!  {"name": "myDiamond", "lattice": [3.567, 3.567, 3.567, 90, 90, 90], "spacegroup": 227, "extinction": "dia"}]
//! ```

use serde::{Deserialize, Serialize};

use super::lattice::Lattice;
use super::materials::{MATERIALS, Material, RuleSpec};
use crate::error::{LaueError, Result};

/// Most entries a materials file may hold (a guard against hostile files, far above any real list).
pub const MAX_MATERIALS_IN_FILE: usize = 1000;

/// A material written out: what a materials file lists and what a request may carry instead of a name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialDef {
    /// name used on the command line and carried by reports, `.fit` files and models
    pub name: String,
    /// a, b, c (Å), α, β, γ (deg)
    pub lattice: [f64; 6],
    /// space group number (1–230): the Laue group, and the reflection conditions unless `extinction` is given
    #[serde(default, alias = "space_group", skip_serializing_if = "Option::is_none")]
    pub spacegroup: Option<u32>,
    /// selection rule: a LaueTools name (fcc, bcc, dia, wurtzite …), ours (hcp, P/I/F/R …) or conditions such
    /// as `hkl: h+k=2n; h0l: l=2n`; with `spacegroup` it replaces the group's conditions
    #[serde(default, alias = "rule", skip_serializing_if = "Option::is_none")]
    pub extinction: Option<String>,
    /// where the values come from (a handbook, a database entry, a paper)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl MaterialDef {
    /// The material this entry defines, and an optional note (conditions that are not tabulated).
    pub fn build(&self) -> Result<(Material, Option<String>)> {
        let lattice = Lattice::new(self.lattice)
            .map_err(|e| LaueError::InvalidMaterial { material: self.name.clone(), reason: e.to_string() })?;
        let (mut m, note) =
            Material::define(&self.name, lattice, self.spacegroup, self.extinction.as_deref())?;
        m.source = self.source.clone().unwrap_or_else(|| "user".into());
        Ok((m, note))
    }

    /// The definition that rebuilds `m` (name, lattice, Laue group, rule, source).
    pub fn of(m: &Material) -> Self {
        MaterialDef {
            name: m.name.clone(),
            lattice: m.lattice.params(),
            spacegroup: m.space_group,
            extinction: (!m.rule.is_symmetry_expanded() || m.space_group.is_none())
                .then(|| m.rule.name.clone()),
            source: (!m.source.is_empty()).then(|| m.source.clone()),
        }
    }
}

/// A material as a request names it: a name (of the table, or of the materials the front end knows) or a
/// full definition. In JSON: `"Ge"` or `{"name": …, "lattice": […], "spacegroup": …}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MaterialSpec {
    /// a name of the built-in table (`lauekit materials`)
    Name(String),
    /// a material written out
    Defined(MaterialDef),
}

impl<'de> Deserialize<'de> for MaterialSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        use serde::de::Error;
        let v = serde_json::Value::deserialize(d)?;
        match v {
            serde_json::Value::String(s) => Ok(MaterialSpec::Name(s)),
            serde_json::Value::Object(_) => {
                let name = v.get("name").and_then(|n| n.as_str()).unwrap_or("?").to_string();
                MaterialDef::deserialize(v)
                    .map(MaterialSpec::Defined)
                    .map_err(|e| D::Error::custom(format!("material '{name}': {e}")))
            }
            other => Err(D::Error::custom(format!(
                "a material is a name (\"Ge\") or {{\"name\", \"lattice\": [a, b, c, α, β, γ], \"spacegroup\" or \
                 \"extinction\"}}, not {other}"
            ))),
        }
    }
}

impl From<&str> for MaterialSpec {
    fn from(s: &str) -> Self {
        MaterialSpec::Name(s.to_string())
    }
}

impl From<&String> for MaterialSpec {
    fn from(s: &String) -> Self {
        MaterialSpec::Name(s.clone())
    }
}

impl From<String> for MaterialSpec {
    fn from(s: String) -> Self {
        MaterialSpec::Name(s)
    }
}

impl From<&Material> for MaterialSpec {
    /// The table's name when `m` is that row as is, else the definition.
    fn from(m: &Material) -> Self {
        match Material::from_table(&m.name) {
            Ok(t) if &t == m => MaterialSpec::Name(m.name.clone()),
            _ => MaterialSpec::Defined(MaterialDef::of(m)),
        }
    }
}

impl MaterialSpec {
    /// The name the material goes by.
    pub fn name(&self) -> &str {
        match self {
            MaterialSpec::Name(n) => n.trim(),
            MaterialSpec::Defined(d) => d.name.trim(),
        }
    }

    /// The material: a name looked up in `catalog`, a definition built (its note dropped).
    pub fn resolve(&self, catalog: &MaterialCatalog) -> Result<Material> {
        match self {
            MaterialSpec::Name(n) => catalog.get(n),
            MaterialSpec::Defined(d) => Ok(d.build()?.0),
        }
    }
}

/// The names `--material` resolves: user materials (a materials file) first, then the built-in table.
#[derive(Debug, Clone, Default)]
pub struct MaterialCatalog {
    user: Vec<Material>,
}

impl MaterialCatalog {
    /// The built-in table only.
    pub fn table() -> Self {
        Self::default()
    }

    /// The table and the materials of a materials file (`file` names it in errors).
    pub fn with_file(text: &str, file: &str) -> Result<Self> {
        let mut c = Self::default();
        c.add_file(text, file)?;
        Ok(c)
    }

    /// Adds the materials of a materials file; a name already given by an earlier file is refused.
    pub fn add_file(&mut self, text: &str, file: &str) -> Result<()> {
        for m in parse_materials_file(text, file)? {
            if self.user.iter().any(|u| u.name.eq_ignore_ascii_case(&m.name)) {
                return Err(LaueError::parse(file, format!("material '{}' is defined twice", m.name)));
            }
            self.user.push(m);
        }
        Ok(())
    }

    /// The user materials (from files), in file order.
    pub fn user(&self) -> &[Material] {
        &self.user
    }

    /// The material called `name` (case-insensitive): a user material, else a row of the table.
    pub fn get(&self, name: &str) -> Result<Material> {
        let n = name.trim();
        if let Some(m) = self.user.iter().find(|m| m.name.eq_ignore_ascii_case(n)) {
            return Ok(m.clone());
        }
        Material::from_table(n).map_err(|e| match e {
            LaueError::UnknownMaterial(..) => LaueError::UnknownMaterial(
                name.to_string(),
                self.user
                    .iter()
                    .map(|m| m.name.as_str())
                    .chain(MATERIALS.iter().map(|m| m.name))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            other => other,
        })
    }
}

/// The materials of a materials file: JSON (a list of [`MaterialDef`], or `{"materials": [...]}`) or TOML
/// (`[[materials]]` tables), told apart by the first character (`[` or `{` and valid JSON: JSON). Errors
/// name `file` and the entry (number from 1, and name).
pub fn parse_materials_file(text: &str, file: &str) -> Result<Vec<Material>> {
    let text = crate::io::text::strip_bom(text);
    let t = text.trim_start();
    let looks_json = t.starts_with('{') || (t.starts_with('[') && !t.starts_with("[["));
    let value: serde_json::Value = if looks_json {
        serde_json::from_str(text)
            .map_err(|e| LaueError::parse(file, format!("not a materials file (JSON): {e}")))?
    } else {
        toml::from_str(text).map_err(|e| {
            LaueError::parse(
                file,
                format!("not a materials file (TOML, or JSON starting with '['): {}", e.message()),
            )
        })?
    };
    let entries = match value {
        serde_json::Value::Array(a) => a,
        serde_json::Value::Object(mut o) => match o.remove("materials") {
            Some(serde_json::Value::Array(a)) if o.is_empty() => a,
            Some(serde_json::Value::Array(_)) => {
                let extra: Vec<&String> = o.keys().collect();
                return Err(LaueError::parse(
                    file,
                    format!("unknown top-level keys {extra:?}: a materials file has only 'materials'"),
                ));
            }
            _ => {
                return Err(LaueError::parse(
                    file,
                    "expected a list of materials, or 'materials' = a list ([[materials]] in TOML)",
                ));
            }
        },
        _ => return Err(LaueError::parse(file, "expected a list of materials")),
    };
    if entries.is_empty() {
        return Err(LaueError::parse(file, "the materials list is empty"));
    }
    if entries.len() > MAX_MATERIALS_IN_FILE {
        return Err(LaueError::limit(
            format!("{file}: materials in the file"),
            entries.len(),
            MAX_MATERIALS_IN_FILE,
            "",
        ));
    }
    let mut out: Vec<Material> = Vec::with_capacity(entries.len());
    for (i, v) in entries.into_iter().enumerate() {
        let label = match v.get("name").and_then(|n| n.as_str()) {
            Some(n) => format!("entry {} ('{n}')", i + 1),
            None => format!("entry {}", i + 1),
        };
        let def: MaterialDef =
            serde_json::from_value(v).map_err(|e| LaueError::parse(file, format!("{label}: {e}")))?;
        let (m, _) = def.build().map_err(|e| LaueError::parse(file, format!("{label}: {e}")))?;
        if out.iter().any(|o| o.name.eq_ignore_ascii_case(&m.name)) {
            return Err(LaueError::parse(file, format!("{label}: the name '{}' is used twice", m.name)));
        }
        out.push(m);
    }
    Ok(out)
}

/// The material flags of a command, resolved by [`MaterialQuery::resolve`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaterialQuery {
    /// names of the catalog (several: a multi-phase request)
    pub materials: Vec<String>,
    /// a, b, c (Å), α, β, γ (deg): defines a material, or overrides the lattice of the one named
    pub lattice: Option<[f64; 6]>,
    /// space group number (1–230)
    pub spacegroup: Option<u32>,
    /// selection rule (LaueTools name, ours, or conditions)
    pub extinction: Option<String>,
    /// the name the defined (or changed) material goes by
    pub name: Option<String>,
}

impl MaterialQuery {
    /// True when no flag was given.
    pub fn is_empty(&self) -> bool {
        self.materials.is_empty()
            && self.lattice.is_none()
            && self.spacegroup.is_none()
            && self.extinction.is_none()
            && self.name.is_none()
    }

    /// The materials these flags describe (empty when none is given), with notes for the user:
    /// - names only: each looked up in `catalog`;
    /// - one name and `lattice`/`spacegroup`/`extinction`/`name`: that material changed (its lattice
    ///   replaced, its rule replaced, renamed);
    /// - no name: `lattice` with `spacegroup` and/or `extinction` define a material called `name`
    ///   (default "custom").
    pub fn resolve(&self, catalog: &MaterialCatalog) -> Result<(Vec<Material>, Vec<String>)> {
        let mut notes = Vec::new();
        let changes = self.lattice.is_some()
            || self.spacegroup.is_some()
            || self.extinction.is_some()
            || self.name.is_some();
        let named: Vec<&str> = self.materials.iter().map(|m| m.trim()).filter(|m| !m.is_empty()).collect();
        if !changes {
            let ms = named.iter().map(|n| catalog.get(n)).collect::<Result<Vec<_>>>()?;
            return Ok((ms, notes));
        }
        let lattice = match self.lattice {
            Some(p) => Some(Lattice::new(p)?),
            None => None,
        };
        let rule = self.extinction.as_deref().map(str::trim).filter(|r| !r.is_empty());
        let m = match named.as_slice() {
            [] => {
                let name = self.name.as_deref().map(str::trim).filter(|n| !n.is_empty()).unwrap_or("custom");
                let Some(l) = lattice else {
                    return Err(LaueError::InvalidMaterial {
                        material: name.to_string(),
                        reason: "--spacegroup, --extinction and --name define a material with --lattice \
                                 a,b,c,alpha,beta,gamma, or change the one of --material NAME"
                            .into(),
                    });
                };
                if self.spacegroup.is_none() && rule.is_none() {
                    return Err(LaueError::InvalidMaterial {
                        material: name.to_string(),
                        reason: "with --lattice alone, give --spacegroup N or --extinction RULE".into(),
                    });
                }
                let (m, note) = Material::define(name, l, self.spacegroup, rule)?;
                notes.extend(note);
                m
            }
            [one] => {
                let mut m = catalog.get(one)?;
                if let Some(l) = lattice {
                    m = m.with_lattice(l)?;
                }
                match (self.spacegroup, rule) {
                    (None, None) => {}
                    (Some(n), None) => {
                        let (m2, note) = m.with_rule(RuleSpec::SpaceGroup(n))?;
                        notes.extend(note);
                        m = m2;
                    }
                    (sg, Some(r)) => {
                        let (m2, note) = Material::define(&m.name, m.lattice, sg, Some(r))?;
                        notes.extend(note);
                        m = m2;
                    }
                }
                if let Some(n) = self.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                    m.name = n.to_string();
                    m.source = "user".into();
                }
                m
            }
            many => {
                return Err(LaueError::InvalidMaterial {
                    material: many.join(","),
                    reason: "--lattice, --spacegroup, --extinction and --name change one material; give one \
                             --material, or define the phases in a --materials file"
                        .into(),
                });
            }
        };
        Ok((vec![m], notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crystal::LaueGroup;

    const FILE: &str = r#"[
        {"name": "myBTO", "lattice": [3.992, 3.992, 4.036, 90, 90, 90], "spacegroup": 99, "source": "XMMLAS"},
        {"name": "myC", "lattice": [3.567, 3.567, 3.567, 90, 90, 90], "spacegroup": 227, "extinction": "dia"},
        {"name": "myHcp", "lattice": [2.95, 2.95, 4.68, 90, 90, 120], "rule": "hcp"}
    ]"#;

    #[test]
    fn materials_files_in_json_and_toml() {
        let c = MaterialCatalog::with_file(FILE, "m.json").unwrap();
        assert_eq!(c.user().len(), 3);
        let bto = c.get("mybto").unwrap();
        assert_eq!(bto.laue_group, LaueGroup::Tetragonal4mmm);
        assert_eq!(bto.space_group, Some(99));
        assert_eq!(bto.source, "XMMLAS");
        assert!((bto.lattice.c - 4.036).abs() < 1e-12);
        let c_dia = c.get("myC").unwrap();
        assert!(
            !c_dia.rule.allows([2, 2, 2]) && !c_dia.rule.allows([2, 0, 0]) && c_dia.rule.allows([1, 1, 1])
        );
        assert_eq!(c_dia.laue_group, LaueGroup::CubicM3m);
        let hcp = c.get("myHcp").unwrap();
        assert_eq!(hcp.laue_group, LaueGroup::Hexagonal6mmm);
        assert!(!hcp.rule.allows([0, 0, 1]));
        // The table is still there behind the file.
        assert_eq!(c.get("Ge").unwrap().name, "Ge");
        let e = c.get("nope").unwrap_err().to_string();
        assert!(e.contains("myBTO") && e.contains("GaN"), "{e}");

        let toml = r#"
            [[materials]]
            name = "myBTO"
            lattice = [3.992, 3.992, 4.036, 90, 90, 90]
            spacegroup = 99
        "#;
        let t = MaterialCatalog::with_file(toml, "m.toml").unwrap();
        assert_eq!(
            t.get("myBTO").unwrap(),
            MaterialCatalog::with_file(FILE, "x")
                .unwrap()
                .get("myBTO")
                .map(|mut m| {
                    m.source = "user".into();
                    m
                })
                .unwrap()
        );
        let wrapped = format!("{{\"materials\": {FILE}}}");
        assert_eq!(MaterialCatalog::with_file(&wrapped, "w.json").unwrap().user().len(), 3);
    }

    #[test]
    fn bad_materials_files_say_which_entry() {
        let cases = [
            (r#"[{"name": "a", "lattice": [3, 3, 3, 90, 90, 90]}]"#, "entry 1 ('a')", "space group"),
            (r#"[{"name": "a", "lattice": [3, 3, 3, 90, 90]}, {}]"#, "entry 1 ('a')", "6"),
            (
                r#"[{"name": "a", "lattice": [3, 3, 3, 90, 90, 90], "spacegroup": 194}]"#,
                "entry 1 ('a')",
                "6/mmm",
            ),
            (
                r#"[{"name": "b", "lattice": [3, 3, 3, 90, 90, 90], "spacegroup": 231}]"#,
                "entry 1 ('b')",
                "231",
            ),
            (
                r#"[{"name": "c", "lattice": [3, -3, 3, 90, 90, 90], "spacegroup": 225}]"#,
                "entry 1 ('c')",
                "-3",
            ),
            (
                r#"[{"name": "d", "lattice": [3, 3, 3, 90, 90, 90], "extinction": "xyz"}]"#,
                "entry 1 ('d')",
                "xyz",
            ),
            (
                r#"[{"name": "e", "lattice": [3, 3, 3, 90, 90, 90], "spacegroup": 225, "colour": 1}]"#,
                "('e')",
                "colour",
            ),
            (
                r#"[{"name": "f", "lattice": [3, 3, 3, 90, 90, 90], "spacegroup": 225},
                    {"name": "F", "lattice": [3, 3, 3, 90, 90, 90], "spacegroup": 225}]"#,
                "entry 2 ('F')",
                "twice",
            ),
            ("[]", "m.json", "empty"),
            ("{\"materials\": 3}", "m.json", "list"),
            ("not = [valid", "m.json", "TOML"),
            ("[{\"name\": ", "m.json", "JSON"),
        ];
        for (text, want1, want2) in cases {
            let e = MaterialCatalog::with_file(text, "m.json").unwrap_err().to_string();
            assert!(e.starts_with("m.json: ") && e.contains(want1) && e.contains(want2), "{text}: {e}");
        }
    }

    #[test]
    fn specs_round_trip_through_json() {
        let c = MaterialCatalog::with_file(FILE, "m.json").unwrap();
        for m in c.user().iter().cloned().chain(["Cu", "Si", "quartz", "sapphire"].map(|n| c.get(n).unwrap()))
        {
            let spec = MaterialSpec::from(&m);
            let json = serde_json::to_string(&spec).unwrap();
            let back: MaterialSpec = serde_json::from_str(&json).unwrap();
            assert_eq!(back.resolve(&MaterialCatalog::table()).unwrap(), m, "{json}");
        }
        assert_eq!(serde_json::to_string(&MaterialSpec::from(&c.get("Cu").unwrap())).unwrap(), "\"Cu\"");
        let e =
            serde_json::from_str::<MaterialSpec>(r#"{"name": "x", "lattice": [1]}"#).unwrap_err().to_string();
        assert!(e.contains("material 'x'"), "{e}");
        assert!(serde_json::from_str::<MaterialSpec>("3").is_err());
    }

    #[test]
    fn flags_resolve_one_way() {
        let t = MaterialCatalog::table();
        let q = |f: fn(&mut MaterialQuery)| {
            let mut q = MaterialQuery::default();
            f(&mut q);
            q.resolve(&t)
        };
        assert!(q(|_| {}).unwrap().0.is_empty());
        let (m, _) = q(|q| q.materials = vec!["GaN".into(), "Si".into()]).unwrap();
        assert_eq!(m.iter().map(|m| m.name.as_str()).collect::<Vec<_>>(), ["GaN", "Si"]);
        let (m, notes) = q(|q| {
            q.lattice = Some([3.992, 3.992, 4.036, 90.0, 90.0, 90.0]);
            q.spacegroup = Some(99);
            q.name = Some("BTO".into());
        })
        .unwrap();
        assert!(notes.is_empty());
        assert_eq!((m[0].name.as_str(), m[0].laue_group), ("BTO", LaueGroup::Tetragonal4mmm));
        let (m, _) = q(|q| {
            q.materials = vec!["Cu".into()];
            q.lattice = Some([3.6149, 3.6149, 3.6149, 90.0, 90.0, 90.0]);
        })
        .unwrap();
        assert_eq!((m[0].name.as_str(), m[0].lattice.a), ("Cu", 3.6149));
        let (m, _) = q(|q| {
            q.materials = vec!["Si".into()];
            q.spacegroup = Some(227);
        })
        .unwrap();
        assert!(m[0].rule.allows([2, 2, 2]), "Fd-3m's conditions alone allow 222");
        let e = q(|q| q.lattice = Some([3.0, 3.0, 3.0, 90.0, 90.0, 90.0])).unwrap_err().to_string();
        assert!(e.contains("--spacegroup"), "{e}");
        let e = q(|q| q.spacegroup = Some(99)).unwrap_err().to_string();
        assert!(e.contains("--lattice"), "{e}");
        let e = q(|q| {
            q.materials = vec!["GaN".into(), "Si".into()];
            q.name = Some("x".into());
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("one material"), "{e}");
        let e = q(|q| q.materials = vec!["BaTiO4".into()]).unwrap_err().to_string();
        assert!(e.contains("unknown material 'BaTiO4'") && e.contains("BaTiO3"), "{e}");
    }
}
