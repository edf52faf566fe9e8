// The Simulator's "Crystal" fieldset: the material (the library's table, or a custom lattice), its lattice and
// its space group or extinction rule. A table material is simulated by name; the lattice and rule fields only
// override it once the user edits them.

import { $ } from '../../lib/dom.js';
import { Panel } from '../../lib/panel.js';
import { readNumber, roundForInput } from './fields.js';

/** The material select's value for a custom lattice. */
export const CUSTOM = '__custom__';
export const LATTICE_IDS = ['lat-a', 'lat-b', 'lat-c', 'lat-alpha', 'lat-beta', 'lat-gamma'];

/**
 * @typedef {{name: string, lattice: ArrayLike<number>, rule?: string, space_group?: number | null,
 *   structure?: string, laue_group?: string, source?: string}} Material
 */

export class CrystalPanel extends Panel {
  constructor() {
    super();
    /** @type {Material[]} the library's materials table */
    this.table = [];
    /** Which crystal inputs the user changed since picking a table material (they then override its values). */
    this.edited = { lattice: false, symmetry: false };
  }

  /**
   * Fills the material select (and the rule suggestions) from the library's table.
   * @param {Material[]} table
   */
  fill(table) {
    this.table = table;
    const sel = $('material', 'select');
    sel.textContent = '';
    for (const m of table) {
      const opt = document.createElement('option');
      opt.value = m.name;
      opt.textContent = m.name;
      sel.append(opt);
    }
    const custom = document.createElement('option');
    custom.value = CUSTOM;
    custom.textContent = 'custom (lattice below)';
    sel.append(custom);

    // Offer the rule names the table uses as well as the usual ones.
    const list = $('rules', 'datalist');
    const known = new Set(Array.from(list.options, (o) => o.value));
    for (const m of table) {
      if (m.rule && !known.has(m.rule)) {
        known.add(m.rule);
        const opt = document.createElement('option');
        opt.value = m.rule;
        list.append(opt);
      }
    }
  }

  /**
   * Whether the table has material `name`.
   * @param {string} name
   */
  has(name) {
    return this.table.some((m) => m.name === name);
  }

  /**
   * Picks material `name` (or CUSTOM): its lattice and rule fill the fields, which are no longer edited.
   * @param {string} name
   */
  select(name) {
    const sel = $('material', 'select');
    sel.value = name;
    const m = this.table.find((x) => x.name === name);
    if (m) {
      this.setLattice(Array.from(m.lattice));
      // The table simulates with the material's own (LaueTools) rule, so show that rather than the space group.
      $('symmetry', 'input').value = m.rule ?? (m.space_group != null ? String(m.space_group) : '');
    }
    this.edited = { lattice: false, symmetry: false };
    for (const id of [...LATTICE_IDS, 'symmetry']) $(id).classList.remove('invalid');
    this.showInfo();
  }

  /** The line under the select: what the table says of the material, and which fields override it. */
  showInfo() {
    const m = this.table.find((x) => x.name === $('material', 'select').value);
    const info = $('material-info');
    if (!m) {
      info.textContent = 'Custom crystal: lattice parameters and a space group number or extinction rule.';
      return;
    }
    const parts = [];
    if (m.structure) parts.push(m.structure);
    parts.push(`rule ${m.rule}`);
    if (m.space_group != null) parts.push(`space group ${m.space_group}`);
    if (m.laue_group) parts.push(`Laue group ${m.laue_group}`);
    if (m.source) parts.push(`values: ${m.source}`);
    const edited = [this.edited.lattice && 'lattice', this.edited.symmetry && 'rule'].filter(Boolean);
    info.textContent = parts.join(' · ') + (edited.length ? ` — your ${edited.join(' and ')} override the table's.` : '');
  }

  /** @param {number[]} values a, b, c (Å), α, β, γ (°) */
  setLattice(values) {
    LATTICE_IDS.forEach((id, i) => { $(id, 'input').value = roundForInput(values[i]); });
  }

  /**
   * An input event of field `id` of the form; true when it is one of this panel's.
   * @param {string} id
   * @param {string} value
   */
  onInput(id, value) {
    if (id === 'material') {
      this.select(value);
    } else if (LATTICE_IDS.includes(id) || id === 'symmetry') {
      if (id === 'symmetry') this.edited.symmetry = true;
      else this.edited.lattice = true;
      this.showInfo();
    } else {
      return false;
    }
    return true;
  }

  /**
   * Adds the crystal to the `simulate` request: the material by name, the lattice and rule when edited (or custom).
   * @param {Record<string, any>} request
   * @param {string[]} problems
   */
  read(request, problems) {
    const matName = $('material', 'select').value;
    const custom = !matName || matName === CUSTOM;
    if (!custom) request.material = matName;
    // A table material is sent by name; lattice and rule only when the user changed them (or for a custom crystal).
    if (custom || this.edited.lattice) {
      const labels = ['a', 'b', 'c', 'α', 'β', 'γ'];
      request.lattice = LATTICE_IDS.map((id, i) => (i < 3
        ? readNumber(id, `Lattice ${labels[i]} (Å)`, problems, (v) => v > 0, 'a positive number')
        : readNumber(id, `Lattice ${labels[i]} (°)`, problems, (v) => v > 0 && v < 180, 'an angle between 0 and 180°')));
    }
    if (custom || this.edited.symmetry) {
      const sym = $('symmetry', 'input').value.trim();
      $('symmetry').classList.remove('invalid');
      if (sym === '') {
        $('symmetry').classList.add('invalid');
        problems.push('Give a space group number (1–230) or an extinction rule name (fcc, bcc, dia, wurtzite, hcp, no, …).');
      } else if (/^\d+$/.test(sym)) {
        const sg = Number(sym);
        if (sg < 1 || sg > 230) {
          $('symmetry').classList.add('invalid');
          problems.push(`Space group must be between 1 and 230 (got ${sym}).`);
        }
        request.space_group = sg;
      } else {
        request.extinction = sym;
      }
    }
  }
}
