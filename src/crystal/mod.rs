//! Crystallography: unit cells and LaueTools' B0, Laue groups, selection rules, materials.

pub mod catalog;
pub mod elastic;
pub mod extinction;
pub mod lattice;
pub mod materials;
pub mod symmetry;

pub use catalog::{MaterialCatalog, MaterialDef, MaterialQuery, MaterialSpec, parse_materials_file};
pub use extinction::{SelectionRule, space_group_symbol};
pub use lattice::{Lattice, ReciprocalLattice};
pub use materials::{MATERIALS, Material, MaterialEntry, RuleSpec};
pub use symmetry::LaueGroup;
