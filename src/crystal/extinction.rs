//! Selection rules: which reflections hkl a structure allows.
//!
//! One mechanism serves all rules: reflection conditions written as in the International Tables,
//! `zone: condition, condition; zone: ...`, e.g. `hkl: h+k=2n; h0l: l=2n; 0k0: k=2n`.
//! - A zone is three tokens, one per index: `0`, or a letter `h`/`k`/`l` with an optional `-`; repeated
//!   letters must be equal (`hhl`: h = k; `h-h0`: k = −h, l = 0). `hkl` is every reflection.
//!   A zone may carry a guard in brackets, `hkl[h-k=3n]: l=2n`.
//! - A condition is `expr=Mn`, `expr=Mn+r` or `expr!=Mn+r`, where expr is an integer combination of the
//!   actual indices h, k, l (`-h+k+l=3n`, `2h+l=4n`); `h,k=2n` is short for `h=2n, k=2n`.
//!
//! Rules from a space-group number apply each zone condition to every symmetry-equivalent reflection, as the
//! Tables intend (they list one representative zone per class). LaueTools' named rules (`fcc`, `dia`,
//! `wurtzite`...) are reproduced literally so that simulations match LaueTools one to one.

use serde::{Deserialize, Serialize};

use super::symmetry::{LaueGroup, apply};
use crate::error::{LaueError, Result};

/// One index position of a zone pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum ZoneToken {
    Zero,
    /// letter index (0 = h, 1 = k, 2 = l) and sign
    Letter(u8, i8),
}

/// `sum(coeffs·hkl) (=|!=) modulus·n + remainder`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Congruence {
    coeffs: [i32; 3],
    modulus: i32,
    remainder: i32,
    negated: bool,
}

impl Congruence {
    fn holds(&self, h: [i32; 3]) -> bool {
        let v = self.coeffs[0] * h[0] + self.coeffs[1] * h[1] + self.coeffs[2] * h[2];
        let ok = (v - self.remainder).rem_euclid(self.modulus) == 0;
        ok != self.negated
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Clause {
    zone: [ZoneToken; 3],
    guard: Option<Congruence>,
    conditions: Vec<Congruence>,
}

impl Clause {
    fn contains(&self, h: [i32; 3]) -> bool {
        let mut bound: [Option<i32>; 3] = [None; 3];
        for (i, t) in self.zone.iter().enumerate() {
            match *t {
                ZoneToken::Zero => {
                    if h[i] != 0 {
                        return false;
                    }
                }
                ZoneToken::Letter(letter, sign) => {
                    let v = h[i] * sign as i32;
                    match bound[letter as usize] {
                        Some(b) if b != v => return false,
                        Some(_) => {}
                        None => bound[letter as usize] = Some(v),
                    }
                }
            }
        }
        self.guard.is_none_or(|g| g.holds(h))
    }

    /// false when `h` lies in this zone and breaks one of its conditions.
    fn allows(&self, h: [i32; 3]) -> bool {
        !self.contains(h) || self.conditions.iter().all(|c| c.holds(h))
    }

    /// True when the zone is every reflection and has no guard (then symmetry cannot change the verdict).
    fn is_general(&self) -> bool {
        self.guard.is_none() && self.zone.iter().enumerate().all(|(i, t)| *t == ZoneToken::Letter(i as u8, 1))
    }
}

/// A parsed set of reflection conditions, optionally applied over a Laue group's equivalents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelectionRule {
    /// What the user gave: a LaueTools name, `SG 227`, or the condition text.
    pub name: String,
    /// The conditions in International Tables notation.
    pub conditions: String,
    clauses: Vec<Clause>,
    /// True for a space group's conditions, applied over every equivalent of each zone (the operators are
    /// not stored: [`SelectionRule::rebuilt`] takes them again from the material's Laue group).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    expanded: bool,
    /// Integer hkl operators over which zone conditions are applied (empty: literal application).
    #[serde(skip)]
    operators: Vec<[[i32; 3]; 3]>,
}

/// LaueTools' rule names with the conditions that reproduce `CrystalParameters.ApplyExtinctionrules`.
pub const LAUETOOLS_RULES: &[(&str, &str)] = &[
    ("no", ""),
    ("fcc", "hkl: h+k=2n, h+l=2n"),
    ("dia", "hkl: h+k=2n, h+l=2n, h+k+l!=4n+2"),
    ("bcc", "hkl: h+k+l=2n"),
    ("h+k=2n", "hkl: h+k=2n"),
    ("h+l=2n", "hkl: h+l=2n"),
    ("h+k+l=2n", "hkl: h+k+l=2n"),
    ("l=2n", "hkl: l=2n"),
    ("Al2O3", "hkl: -h+k+l=3n, l=2n"),
    ("SG166", "hkl: -h+k+l=3n"),
    ("R3m_sg160", "hkl: -h+k+l=3n"),
    ("wurtzite", "hhl: l=2n"),
    ("Ti2AlN", "hkl[h-k=3n]: l=2n"),
    ("SG137", "hkl: l=2n, h+k+l=2n"),
    ("SG141", "hkl: h+k+l=2n; hk0: h=2n; 0kl: k+l=2n; hhl: 2h+l=4n; 00l: l=4n; h00: h=2n; h-h0: h=2n"),
    ("SG227", "hkl: h+k=2n, h+l=2n; h00: h=4n; 0k0: k=4n; 00l: l=4n"),
    ("VO2_mono", "h0l: l=2n; 0k0: k=2n; 00l: l=2n"),
];

/// Further named rules of ours: lattice centrings and the two-atom hcp structure factor.
pub const LAUEKIT_RULES: &[(&str, &str)] = &[
    ("P", ""),
    ("A", "hkl: k+l=2n"),
    ("B", "hkl: h+l=2n"),
    ("C", "hkl: h+k=2n"),
    ("I", "hkl: h+k+l=2n"),
    ("F", "hkl: h+k=2n, h+l=2n"),
    // Rhombohedral lattice on hexagonal axes, obverse setting.
    ("R", "hkl: -h+k+l=3n"),
    // hcp metals (atoms at 1/3 2/3 1/4): F = 0 for h − k = 3n with l odd. Includes hhl: l = 2n of P6₃/mmc.
    ("hcp", "hkl[h-k=3n]: l=2n"),
    ("diamond", "hkl: h+k=2n, h+l=2n, h+k+l!=4n+2"),
];

impl SelectionRule {
    /// No condition: every hkl allowed.
    pub fn none() -> Self {
        SelectionRule {
            name: "no".into(),
            conditions: String::new(),
            clauses: vec![],
            expanded: false,
            operators: vec![],
        }
    }

    /// Parses condition text; the conditions are applied literally (no symmetry expansion).
    pub fn from_conditions(name: &str, text: &str) -> Result<Self> {
        Ok(SelectionRule {
            name: name.to_string(),
            conditions: text.trim().to_string(),
            clauses: parse_conditions(text)?,
            expanded: false,
            operators: vec![],
        })
    }

    /// A LaueTools rule name, one of our named rules, or condition text (anything containing ':').
    pub fn named(name: &str) -> Result<Self> {
        let t = name.trim();
        if t.contains(':') {
            return Self::from_conditions(t, t);
        }
        let lower = t.to_ascii_lowercase();
        let alias = match lower.as_str() {
            "none" | "nothing" | "noextinction" => "no",
            "facecenteredcubic" => "fcc",
            "bodycentered" => "bcc",
            _ => t,
        };
        LAUETOOLS_RULES
            .iter()
            .chain(LAUEKIT_RULES.iter())
            .find(|(n, _)| *n == alias || n.eq_ignore_ascii_case(alias))
            .map(|(n, text)| Self::from_conditions(n, text))
            .unwrap_or_else(|| {
                let known: Vec<&str> =
                    LAUETOOLS_RULES.iter().chain(LAUEKIT_RULES.iter()).map(|(n, _)| *n).collect();
                Err(LaueError::InvalidRule {
                    rule: name.to_string(),
                    reason: format!(
                        "unknown rule name; use one of {} or conditions such as 'hkl: h+k=2n; h0l: l=2n'",
                        known.join(", ")
                    ),
                })
            })
    }

    /// The reflection conditions of space group `number` (1..=230), applied over the Laue group `ops`
    /// (integer hkl operators from [`LaueGroup::hkl_operators`]). Groups whose glide and screw conditions are
    /// not tabulated here get their lattice-centring conditions only, and the returned note says so.
    pub fn space_group(number: u32, ops: Vec<[[i32; 3]; 3]>) -> Result<(Self, Option<String>)> {
        let symbol = space_group_symbol(number)?;
        let (text, note) = match SPACE_GROUP_CONDITIONS.iter().find(|(n, _)| *n == number) {
            Some((_, t)) => (t.to_string(), None),
            None => {
                let centring = &symbol[..1];
                let text = LAUEKIT_RULES.iter().find(|(n, _)| *n == centring).map(|(_, t)| *t).unwrap_or("");
                (
                    text.to_string(),
                    Some(format!(
                        "space group {number} ({symbol}): only its lattice-centring conditions ({centring}) are \
                         applied; give its glide/screw conditions with an explicit rule if they matter"
                    )),
                )
            }
        };
        let mut rule = Self::from_conditions(&format!("SG {number} ({symbol})"), &text)?;
        rule.operators = ops;
        rule.expanded = true;
        Ok((rule, note))
    }

    /// True when reflection `hkl` is allowed. (0, 0, 0) is never a reflection.
    pub fn allows(&self, h: [i32; 3]) -> bool {
        if h == [0, 0, 0] {
            return false;
        }
        for c in &self.clauses {
            if self.operators.is_empty() || c.is_general() {
                if !c.allows(h) {
                    return false;
                }
            } else if self.operators.iter().any(|m| {
                let g = apply(m, h);
                !c.allows(g) || !c.allows([-g[0], -g[1], -g[2]])
            }) {
                return false;
            }
        }
        true
    }

    /// True for a space group's conditions (applied over the equivalents of each zone).
    pub fn is_symmetry_expanded(&self) -> bool {
        self.expanded
    }

    /// The rule parsed again from its condition text, with `ops` (the material's Laue-group operators) when
    /// it is a space group's: after deserialisation (a model file, a request), where the operators are not
    /// stored and the parsed clauses must not be trusted (a modulus of 0 would panic).
    pub fn rebuilt(&self, ops: &[[[i32; 3]; 3]]) -> Result<Self> {
        let mut r = Self::from_conditions(&self.name, &self.conditions)?;
        if self.expanded {
            r.expanded = true;
            r.operators = ops.to_vec();
        }
        Ok(r)
    }
}

/// Reflection conditions from the International Tables (Vol. A) for the space groups met in Laue work.
/// One representative zone per class; [`SelectionRule::space_group`] applies them to all equivalents.
const SPACE_GROUP_CONDITIONS: &[(u32, &str)] = &[
    (1, ""),
    (2, ""),
    (3, ""),
    (4, "0k0: k=2n"),
    (5, "hkl: h+k=2n"),
    (10, ""),
    (11, "0k0: k=2n"),
    (12, "hkl: h+k=2n"),
    (13, "h0l: l=2n; 00l: l=2n"),
    (14, "h0l: l=2n; 0k0: k=2n; 00l: l=2n"),
    (15, "hkl: h+k=2n; h0l: h,l=2n; 0k0: k=2n; 00l: l=2n"),
    (16, ""),
    (19, "h00: h=2n; 0k0: k=2n; 00l: l=2n"),
    (47, ""),
    (62, "0kl: k+l=2n; hk0: h=2n; h00: h=2n; 0k0: k=2n; 00l: l=2n"),
    (63, "hkl: h+k=2n; h0l: h,l=2n; 00l: l=2n"),
    (64, "hkl: h+k=2n; 0kl: k=2n; h0l: h,l=2n; hk0: h,k=2n; h00: h=2n; 0k0: k=2n; 00l: l=2n"),
    (65, "hkl: h+k=2n"),
    (69, "hkl: h+k=2n, h+l=2n"),
    (70, "hkl: h+k=2n, h+l=2n; 0kl: k+l=4n; h0l: h+l=4n; hk0: h+k=4n; h00: h=4n; 0k0: k=4n; 00l: l=4n"),
    (71, "hkl: h+k+l=2n"),
    (74, "hkl: h+k+l=2n; hk0: h,k=2n"),
    (99, ""),
    (123, ""),
    (136, "0kl: k+l=2n; 00l: l=2n; h00: h=2n"),
    (139, "hkl: h+k+l=2n"),
    (140, "hkl: h+k+l=2n; 0kl: k,l=2n; hhl: l=2n; hk0: h+k=2n; 00l: l=2n; h00: h=2n"),
    (141, "hkl: h+k+l=2n; hk0: h,k=2n; 0kl: k+l=2n; hhl: 2h+l=4n; 00l: l=4n; h00: h=2n; h-h0: h=2n"),
    (146, "hkl: -h+k+l=3n"),
    (147, ""),
    (148, "hkl: -h+k+l=3n"),
    (150, ""),
    // P3₁21 / P3₂21 (α-quartz): the 3₁/3₂ screw axis.
    (152, "00l: l=3n"),
    (154, "00l: l=3n"),
    (155, "hkl: -h+k+l=3n"),
    (160, "hkl: -h+k+l=3n"),
    (161, "hkl: -h+k+l=3n; h-hl: h+l=3n, l=2n; hhl: l=3n; h-h0: h=3n; 00l: l=6n"),
    (162, ""),
    (164, ""),
    (166, "hkl: -h+k+l=3n"),
    (167, "hkl: -h+k+l=3n; h-hl: h+l=3n, l=2n; hhl: l=3n; h-h0: h=3n; 00l: l=6n"),
    (168, ""),
    (173, "00l: l=2n"),
    (176, "00l: l=2n"),
    (182, "00l: l=2n"),
    (185, "h-hl: l=2n; 00l: l=2n"),
    (186, "hhl: l=2n; 00l: l=2n"),
    (191, ""),
    (193, "h-hl: l=2n; 00l: l=2n"),
    (194, "hhl: l=2n; 00l: l=2n"),
    (195, ""),
    (196, "hkl: h+k=2n, h+l=2n"),
    (197, "hkl: h+k+l=2n"),
    (198, "h00: h=2n"),
    (200, ""),
    (202, "hkl: h+k=2n, h+l=2n"),
    (204, "hkl: h+k+l=2n"),
    (205, "0kl: k=2n; h00: h=2n"),
    (207, ""),
    (209, "hkl: h+k=2n, h+l=2n"),
    (211, "hkl: h+k+l=2n"),
    (212, "h00: h=4n"),
    (213, "h00: h=4n"),
    (215, ""),
    (216, "hkl: h+k=2n, h+l=2n"),
    (217, "hkl: h+k+l=2n"),
    (220, "hkl: h+k+l=2n; hhl: 2h+l=4n; h00: h=4n"),
    (221, ""),
    (223, "hhl: l=2n; h00: h=2n"),
    (224, "0kl: k+l=2n; h00: h=2n"),
    (225, "hkl: h+k=2n, h+l=2n"),
    (226, "hkl: h+k=2n, h+l=2n; hhl: h,l=2n; h00: h=2n"),
    (227, "hkl: h+k=2n, h+l=2n; 0kl: k+l=4n, k,l=2n; hhl: h+l=2n; h00: h=4n"),
    (228, "hkl: h+k=2n, h+l=2n; 0kl: k+l=4n, k,l=2n; hhl: h,l=2n; h00: h=4n"),
    (229, "hkl: h+k+l=2n"),
    (230, "hkl: h+k+l=2n; 0kl: k,l=2n; hhl: 2h+l=4n; h00: h=4n"),
];

/// Hermann–Mauguin short symbols of the 230 space groups (standard settings, hexagonal axes for R).
const SPACE_GROUP_SYMBOLS: [&str; 230] = [
    "P1", "P-1", "P2", "P21", "C2", "Pm", "Pc", "Cm", "Cc", "P2/m", "P21/m", "C2/m", "P2/c", "P21/c", "C2/c",
    "P222", "P2221", "P21212", "P212121", "C2221", "C222", "F222", "I222", "I212121", "Pmm2", "Pmc21",
    "Pcc2", "Pma2", "Pca21", "Pnc2", "Pmn21", "Pba2", "Pna21", "Pnn2", "Cmm2", "Cmc21", "Ccc2", "Amm2",
    "Aem2", "Ama2", "Aea2", "Fmm2", "Fdd2", "Imm2", "Iba2", "Ima2", "Pmmm", "Pnnn", "Pccm", "Pban", "Pmma",
    "Pnna", "Pmna", "Pcca", "Pbam", "Pccn", "Pbcm", "Pnnm", "Pmmn", "Pbcn", "Pbca", "Pnma", "Cmcm", "Cmce",
    "Cmmm", "Cccm", "Cmme", "Ccce", "Fmmm", "Fddd", "Immm", "Ibam", "Ibca", "Imma", "P4", "P41", "P42",
    "P43", "I4", "I41", "P-4", "I-4", "P4/m", "P42/m", "P4/n", "P42/n", "I4/m", "I41/a", "P422", "P4212",
    "P4122", "P41212", "P4222", "P42212", "P4322", "P43212", "I422", "I4122", "P4mm", "P4bm", "P42cm",
    "P42nm", "P4cc", "P4nc", "P42mc", "P42bc", "I4mm", "I4cm", "I41md", "I41cd", "P-42m", "P-42c", "P-421m",
    "P-421c", "P-4m2", "P-4c2", "P-4b2", "P-4n2", "I-4m2", "I-4c2", "I-42m", "I-42d", "P4/mmm", "P4/mcc",
    "P4/nbm", "P4/nnc", "P4/mbm", "P4/mnc", "P4/nmm", "P4/ncc", "P42/mmc", "P42/mcm", "P42/nbc", "P42/nnm",
    "P42/mbc", "P42/mnm", "P42/nmc", "P42/ncm", "I4/mmm", "I4/mcm", "I41/amd", "I41/acd", "P3", "P31", "P32",
    "R3", "P-3", "R-3", "P312", "P321", "P3112", "P3121", "P3212", "P3221", "R32", "P3m1", "P31m", "P3c1",
    "P31c", "R3m", "R3c", "P-31m", "P-31c", "P-3m1", "P-3c1", "R-3m", "R-3c", "P6", "P61", "P65", "P62",
    "P64", "P63", "P-6", "P6/m", "P63/m", "P622", "P6122", "P6522", "P6222", "P6422", "P6322", "P6mm",
    "P6cc", "P63cm", "P63mc", "P-6m2", "P-6c2", "P-62m", "P-62c", "P6/mmm", "P6/mcc", "P63/mcm", "P63/mmc",
    "P23", "F23", "I23", "P213", "I213", "Pm-3", "Pn-3", "Fm-3", "Fd-3", "Im-3", "Pa-3", "Ia-3", "P432",
    "P4232", "F432", "F4132", "I432", "P4332", "P4132", "I4132", "P-43m", "F-43m", "I-43m", "P-43n", "F-43c",
    "I-43d", "Pm-3m", "Pn-3n", "Pm-3n", "Pn-3m", "Fm-3m", "Fm-3c", "Fd-3m", "Fd-3c", "Im-3m", "Ia-3d",
];

/// Hermann–Mauguin symbol of space group `n`.
pub fn space_group_symbol(n: u32) -> Result<&'static str> {
    if (1..=230).contains(&n) {
        Ok(SPACE_GROUP_SYMBOLS[(n - 1) as usize])
    } else {
        Err(LaueError::SpaceGroup { number: n, reason: "space groups are numbered 1 to 230".into() })
    }
}

/// The Laue class of space group `n`, re-exported for convenience.
pub fn laue_group_of(n: u32) -> Result<LaueGroup> {
    LaueGroup::of_space_group(n)
}

fn rule_error(text: &str, reason: impl Into<String>) -> LaueError {
    LaueError::InvalidRule { rule: text.to_string(), reason: reason.into() }
}

fn parse_conditions(text: &str) -> Result<Vec<Clause>> {
    let mut clauses = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (zone_txt, conds_txt) = part
            .split_once(':')
            .ok_or_else(|| rule_error(part, "expected 'zone: condition', e.g. 'h0l: l=2n'"))?;
        let zone_txt: String = zone_txt.chars().filter(|c| !c.is_whitespace()).collect();
        let (zone_part, guard) = match zone_txt.split_once('[') {
            Some((z, g)) => {
                let g = g.strip_suffix(']').ok_or_else(|| rule_error(part, "guard must end with ']'"))?;
                (z.to_string(), Some(parse_congruence(g, part)?))
            }
            None => (zone_txt.clone(), None),
        };
        let zone = parse_zone(&zone_part, part)?;
        let mut conditions = Vec::new();
        for c in split_conditions(conds_txt) {
            conditions.extend(parse_condition_list(&c, part)?);
        }
        if conditions.is_empty() {
            return Err(rule_error(part, "a zone needs at least one condition"));
        }
        clauses.push(Clause { zone, guard, conditions });
    }
    Ok(clauses)
}

/// Splits "h,l=2n, h+k=4n" into ["h,l=2n", "h+k=4n"]: a comma starts a new condition only after an '=n' part.
fn split_conditions(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for piece in s.split(',') {
        if !cur.is_empty() {
            cur.push(',');
        }
        cur.push_str(piece.trim());
        if cur.contains('=') {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out
}

/// "h,l=2n" → [h=2n, l=2n]; "h+k=2n" → one.
fn parse_condition_list(s: &str, ctx: &str) -> Result<Vec<Congruence>> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let (lhs, rhs) =
        split_relation(&s).ok_or_else(|| rule_error(ctx, format!("'{s}' has no '=' or '!='")))?;
    let lhs_list: Vec<&str> = lhs.0.split(',').collect();
    lhs_list.iter().map(|l| parse_congruence(&format!("{l}{}{rhs}", lhs.1), ctx)).collect()
}

fn split_relation(s: &str) -> Option<((&str, &'static str), &str)> {
    if let Some(i) = s.find("!=") {
        Some(((&s[..i], "!="), &s[i + 2..]))
    } else {
        s.find('=').map(|i| ((&s[..i], "="), &s[i + 1..]))
    }
}

fn parse_congruence(s: &str, ctx: &str) -> Result<Congruence> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let ((lhs, rel), rhs) = split_relation(&s).ok_or_else(|| rule_error(ctx, format!("'{s}' has no '='")))?;
    let coeffs =
        parse_linear(lhs).ok_or_else(|| rule_error(ctx, format!("cannot read '{lhs}' as h, k, l terms")))?;
    // rhs: Mn or Mn+r
    let (m_txt, r_txt) = match rhs.split_once('+') {
        Some((m, r)) => (m, Some(r)),
        None => (rhs, None),
    };
    let m_txt = m_txt
        .strip_suffix('n')
        .ok_or_else(|| rule_error(ctx, format!("'{rhs}' must look like 2n or 4n+2")))?;
    let modulus: i32 =
        if m_txt.is_empty() { 1 } else { m_txt.parse().map_err(|_| rule_error(ctx, "bad modulus"))? };
    if modulus < 1 {
        return Err(rule_error(ctx, "modulus must be ≥ 1"));
    }
    let remainder: i32 = match r_txt {
        Some(r) => r.parse().map_err(|_| rule_error(ctx, format!("bad remainder '{r}'")))?,
        None => 0,
    };
    Ok(Congruence { coeffs, modulus, remainder, negated: rel == "!=" })
}

/// "-h+k+2l" → [-1, 1, 2].
fn parse_linear(s: &str) -> Option<[i32; 3]> {
    let mut coeffs = [0i32; 3];
    let mut chars = s.chars().peekable();
    let mut any = false;
    while chars.peek().is_some() {
        let mut sign = 1;
        while let Some(&c) = chars.peek() {
            match c {
                '+' => {}
                '-' => sign = -sign,
                _ => break,
            }
            chars.next();
        }
        let mut digits = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() {
                digits.push(c);
                chars.next();
            } else {
                break;
            }
        }
        let coef: i32 = if digits.is_empty() { 1 } else { digits.parse().ok()? };
        let idx = match chars.next()? {
            'h' => 0,
            'k' => 1,
            'l' => 2,
            _ => return None,
        };
        coeffs[idx] += sign * coef;
        any = true;
    }
    any.then_some(coeffs)
}

fn parse_zone(z: &str, ctx: &str) -> Result<[ZoneToken; 3]> {
    let mut tokens = Vec::new();
    let mut sign: i8 = 1;
    for c in z.chars() {
        match c {
            '-' => sign = -sign,
            '0' => {
                tokens.push(ZoneToken::Zero);
                sign = 1;
            }
            'h' | 'k' | 'l' => {
                let letter = match c {
                    'h' => 0,
                    'k' => 1,
                    _ => 2,
                };
                tokens.push(ZoneToken::Letter(letter, sign));
                sign = 1;
            }
            _ => return Err(rule_error(ctx, format!("zone '{z}': unexpected '{c}' (use 0, h, k, l and -)"))),
        }
    }
    tokens
        .try_into()
        .map_err(|_| rule_error(ctx, format!("zone '{z}' must name three indices, e.g. hkl, h0l, hhl")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crystal::lattice::Lattice;

    fn all_hkl(n: i32) -> impl Iterator<Item = [i32; 3]> {
        (-n..=n).flat_map(move |h| (-n..=n).flat_map(move |k| (-n..=n).map(move |l| [h, k, l])))
    }

    #[test]
    fn lauetools_rules_match_their_definitions() {
        let fcc = SelectionRule::named("fcc").unwrap();
        let dia = SelectionRule::named("dia").unwrap();
        let bcc = SelectionRule::named("bcc").unwrap();
        let wz = SelectionRule::named("wurtzite").unwrap();
        let mono = SelectionRule::named("VO2_mono").unwrap();
        let sg141 = SelectionRule::named("SG141").unwrap();
        for h in all_hkl(8).filter(|h| *h != [0, 0, 0]) {
            let [a, b, c] = h;
            let same_parity = (a - b).rem_euclid(2) == 0 && (a - c).rem_euclid(2) == 0;
            assert_eq!(fcc.allows(h), same_parity, "fcc {h:?}");
            assert_eq!(dia.allows(h), same_parity && (a + b + c).rem_euclid(4) != 2, "dia {h:?}");
            assert_eq!(bcc.allows(h), (a + b + c).rem_euclid(2) == 0, "bcc {h:?}");
            assert_eq!(wz.allows(h), !(a == b && c.rem_euclid(2) != 0), "wurtzite {h:?}");
            let mono_forbidden = (b == 0 && c % 2 != 0) || (a == 0 && c == 0 && b % 2 != 0);
            assert_eq!(mono.allows(h), !mono_forbidden, "VO2_mono {h:?}");
            let i_ok = (a + b + c).rem_euclid(2) == 0;
            let f141 = (c == 0 && a % 2 != 0 && b % 2 != 0)
                || (a == 0 && (b + c) % 2 != 0)
                || (a == b && (2 * a + c).rem_euclid(4) != 0)
                || (a == 0 && b == 0 && c % 4 != 0)
                || (b == 0 && c == 0 && a % 2 != 0)
                || (b == -a && c == 0 && a % 2 != 0);
            assert_eq!(sg141.allows(h), i_ok && !f141, "SG141 {h:?}");
        }
        assert!(!fcc.allows([0, 0, 0]));
    }

    #[test]
    fn hcp_and_centrings() {
        let hcp = SelectionRule::named("hcp").unwrap();
        assert!(!hcp.allows([0, 0, 1]) && hcp.allows([0, 0, 2]) && !hcp.allows([1, 1, 1]));
        assert!(hcp.allows([1, 0, 1]) && !hcp.allows([2, -1, 1]) && hcp.allows([1, 0, 0]));
        let r = SelectionRule::named("R").unwrap();
        assert!(r.allows([1, 0, 1]) && r.allows([0, 1, 2]) && !r.allows([1, 0, 0]) && r.allows([0, 0, 3]));
        let c = SelectionRule::named("hkl: h+k=2n; h0l: h,l=2n").unwrap();
        assert!(c.allows([1, 1, 0]) && !c.allows([1, 0, 0]) && !c.allows([2, 0, 1]) && c.allows([2, 0, 2]));
        assert!(SelectionRule::named("xyz").is_err());
        assert!(SelectionRule::named("hkl h+k=2n").is_err());
        assert!(SelectionRule::named("hxl: h=2n").is_err());
        assert!(SelectionRule::named("hkl: h=2q").is_err());
    }

    #[test]
    fn space_group_rules_are_symmetry_expanded() {
        let cubic = Lattice::cubic(5.43).unwrap();
        let ops = LaueGroup::CubicM3m.hkl_operators(&cubic).unwrap();
        let (fd3m, note) = SelectionRule::space_group(227, ops.clone()).unwrap();
        assert!(note.is_none());
        // Fd-3m: 0kl with k+l = 4n only; h00 with h = 4n on every axis.
        assert!(!fd3m.allows([0, 0, 2]) && fd3m.allows([0, 0, 4]) && !fd3m.allows([2, 0, 0]));
        assert!(!fd3m.allows([0, 2, 0]) && !fd3m.allows([2, 0, 4]) && fd3m.allows([2, 0, 2]));
        assert!(fd3m.allows([1, 1, 1]) && fd3m.allows([2, 2, 0]) && fd3m.allows([3, 1, 1]));
        // 222 is allowed by the space group (it is absent in diamond only by structure factor).
        assert!(fd3m.allows([2, 2, 2]));
        // The space-group absences are closed under the group.
        for h in all_hkl(6).filter(|h| *h != [0, 0, 0]) {
            for g in LaueGroup::equivalent_hkls(&ops, h) {
                assert_eq!(fd3m.allows(h), fd3m.allows(g), "{h:?} vs {g:?}");
            }
        }
        let hex = Lattice::hexagonal(3.189, 5.185).unwrap();
        let hops = LaueGroup::Hexagonal6mmm.hkl_operators(&hex).unwrap();
        let (p63mc, _) = SelectionRule::space_group(186, hops).unwrap();
        // hh(-2h)l: l=2n and its equivalents (h,-2h,l) and (-2h,h,l).
        assert!(!p63mc.allows([1, 1, 1]) && !p63mc.allows([1, -2, 1]) && !p63mc.allows([-2, 1, 1]));
        assert!(p63mc.allows([1, 0, 1]) && !p63mc.allows([0, 0, 1]) && p63mc.allows([1, 1, 2]));
        let (p1, note) = SelectionRule::space_group(33, vec![]).unwrap();
        assert!(note.is_some() && p1.allows([1, 0, 0]));
        assert!(SelectionRule::space_group(0, vec![]).is_err());
        assert_eq!(space_group_symbol(225).unwrap(), "Fm-3m");
        assert_eq!(space_group_symbol(194).unwrap(), "P63/mmc");
        assert_eq!(space_group_symbol(14).unwrap(), "P21/c");
        assert_eq!(space_group_symbol(167).unwrap(), "R-3c");
    }
}
