// The page's material choices: the library's table (wasm `materials()`), the materials of files the user loads
// (JSON or TOML, wasm `parse_materials_file`) and custom crystals typed in a small form. A `MaterialCatalog` holds
// them by name; a material the user defined (file or form) is passed to wasm as its `definition` object
// (`{name, lattice, spacegroup?, extinction?, source?}`), a table material as its name (`spec`). A
// `MaterialsInput` is the file input, drop target and custom-crystal form of one panel, built into an empty
// element of the page; several panels may add to one catalog.

import { $ } from './dom.js';
import { messageOf } from './panel.js';

/**
 * A material definition as the library reads it (src/crystal/catalog.rs MaterialDef).
 * @typedef {{name: string, lattice: number[], spacegroup?: number, extinction?: string, source?: string}} MaterialDef
 */

/**
 * One material choice: a row of the library's table (`origin` 'table', no `definition`), or a material of a file,
 * a custom crystal or a scan's request (`origin` 'file' / 'custom' / 'request', with its `definition`).
 * @typedef {object} Material
 * @property {string} name
 * @property {number[]} lattice a, b, c (Å), α, β, γ (deg)
 * @property {string} rule selection rule
 * @property {number | null} space_group
 * @property {string} laue_group
 * @property {string} [structure] the table's description
 * @property {string} source where the values come from (a file name, "custom crystal", a handbook)
 * @property {'table' | 'file' | 'custom' | 'request'} origin
 * @property {MaterialDef | null} definition what wasm is given (null: the table's name)
 */

/** A material as given to wasm: a table name, or a definition. @typedef {string | MaterialDef} MaterialSpec */

/** The choices of a view: the table's materials, then the user's, by name (a later one replaces an earlier). */
export class MaterialCatalog {
  constructor() {
    /** @type {Material[]} */
    this.items = [];
    /** @type {Set<() => void>} */
    this.listeners = new Set();
  }

  /**
   * The library's table (wasm `materials()` rows).
   * @param {any[]} rows
   */
  setTable(rows) {
    const user = this.items.filter((m) => m.origin !== 'table');
    this.items = Array.from(rows, (r) => ({ name: r.name, lattice: r.lattice, rule: r.rule, space_group: r.space_group,
      laue_group: r.laue_group, structure: r.structure, source: r.source, origin: /** @type {'table'} */ ('table'),
      definition: null }));
    for (const m of user) this.put(m);
    this.changed();
  }

  /** @returns {Material[]} every choice, the table's first */
  list() {
    return this.items;
  }

  /** @returns {string[]} the names of the choices */
  names() {
    return this.items.map((m) => m.name);
  }

  /**
   * The choice named `name` (exactly, else ignoring case), or null.
   * @param {string | null | undefined} name
   * @returns {Material | null}
   */
  get(name) {
    if (name == null) return null;
    const n = String(name);
    return this.items.find((m) => m.name === n) ?? this.items.find((m) => m.name.toLowerCase() === n.toLowerCase()) ?? null;
  }

  /**
   * What wasm is given for the material `name`: its definition when the user defined it, else the name.
   * @param {string} name
   * @returns {MaterialSpec}
   */
  spec(name) {
    return this.get(name)?.definition ?? name;
  }

  /**
   * Adds (or replaces, by name) user-defined materials: rows of wasm `parse_materials_file`.
   * @param {any[]} rows `[{definition, name, lattice, rule, space_group, laue_group, source}]`
   * @param {'file' | 'custom' | 'request'} origin
   * @returns {Material[]} the materials added
   */
  addDefined(rows, origin) {
    const added = Array.from(rows, (r) => ({ name: r.name, lattice: r.lattice, rule: r.rule,
      space_group: r.space_group ?? null, laue_group: r.laue_group, source: r.source, origin,
      definition: /** @type {MaterialDef} */ (r.definition) }));
    for (const m of added) this.put(m);
    this.changed();
    return added;
  }

  /** @param {Material} m */
  put(m) {
    const i = this.items.findIndex((x) => x.name === m.name);
    if (i >= 0) this.items[i] = m;
    else this.items.push(m);
  }

  /**
   * Calls `fn` whenever the choices change.
   * @param {() => void} fn
   */
  subscribe(fn) {
    this.listeners.add(fn);
  }

  changed() {
    for (const fn of this.listeners) fn();
  }
}

/**
 * A tooltip of a material: lattice, space group, rule and where it comes from.
 * @param {Material} m
 * @returns {string}
 */
export function materialTitle(m) {
  const sg = m.space_group != null ? `space group ${m.space_group} (${m.laue_group})` : `Laue group ${m.laue_group}`;
  const from = m.origin === 'table' ? '' : ` — ${m.origin === 'custom' ? 'custom crystal' : `from ${m.source}`}`;
  return `${m.name}${m.structure ? `: ${m.structure}` : ''}, a b c = ${m.lattice.slice(0, 3).join(' ')} Å, `
    + `α β γ = ${m.lattice.slice(3).join(' ')}°, ${sg}, rule ${m.rule}${from}`;
}

/** The custom-crystal fields: id suffix, label, help key, attributes. */
const CRYSTAL_FIELDS = [
  ['name', 'name', { type: 'text', placeholder: 'e.g. GeX' }],
  ['a', 'a (Å)', { type: 'number', step: 'any', min: '0' }],
  ['b', 'b (Å)', { type: 'number', step: 'any', min: '0' }],
  ['c', 'c (Å)', { type: 'number', step: 'any', min: '0' }],
  ['alpha', 'α (°)', { type: 'number', step: 'any', min: '0', max: '180', value: '90' }],
  ['beta', 'β (°)', { type: 'number', step: 'any', min: '0', max: '180', value: '90' }],
  ['gamma', 'γ (°)', { type: 'number', step: 'any', min: '0', max: '180', value: '90' }],
  ['sg', 'space group', { type: 'number', step: '1', min: '1', max: '230', placeholder: '1–230' }],
  ['rule', 'or rule', { type: 'text', placeholder: 'fcc, dia, bcc…' }],
];

/**
 * @typedef {object} MaterialsInputHooks
 * @property {() => typeof import('../../pkg/lauekit.js') | null} wasm the page's wasm module (null before it loads)
 * @property {(message: string) => void} showError the panel's error box
 * @property {(added: Material[]) => void} [added] materials were added (loaded or defined)
 */

/**
 * One panel's ways to add materials: a materials file (file input, or a drop on the box) and a custom crystal.
 * Built into the empty element `id`; its inputs are `<id>-file`, `<id>-name`, `<id>-a` … (help keys
 * `materials-file`, `crystal-name`, `crystal-a` …, lib/help.js).
 */
export class MaterialsInput {
  /**
   * @param {string} id the empty element the controls are built in
   * @param {MaterialCatalog} catalog where the materials go
   * @param {MaterialsInputHooks} hooks
   */
  constructor(id, catalog, hooks) {
    this.id = id;
    this.catalog = catalog;
    this.hooks = hooks;
    this.build();
  }

  build() {
    const id = this.id;
    const box = $(id);
    box.classList.add('materials-add');
    box.textContent = '';
    const details = document.createElement('details');
    const summary = document.createElement('summary');
    summary.textContent = 'Materials file or custom crystal';
    const file = document.createElement('label');
    file.className = 'file';
    file.textContent = 'materials file (.json, .toml) — or drop it here ';
    const input = document.createElement('input');
    input.type = 'file';
    input.id = `${id}-file`;
    input.accept = '.json,.toml,application/json';
    input.dataset.helpKey = 'materials-file';
    file.append(input);
    const group = document.createElement('fieldset');
    group.className = 'custom-crystal';
    const legend = document.createElement('legend');
    legend.textContent = 'custom crystal';
    const grid = document.createElement('div');
    grid.className = 'grid3';
    for (const [key, text, attrs] of /** @type {[string, string, Record<string, string>][]} */ (CRYSTAL_FIELDS)) {
      const label = document.createElement('label');
      label.textContent = text;
      const inp = document.createElement('input');
      inp.id = `${id}-${key}`;
      inp.dataset.helpKey = `crystal-${key}`;
      inp.spellcheck = false;
      for (const [k, v] of Object.entries(attrs)) inp.setAttribute(k, v);
      label.append(inp);
      grid.append(label);
    }
    const buttons = document.createElement('div');
    buttons.className = 'buttons';
    const add = document.createElement('button');
    add.type = 'button';
    add.id = `${id}-add`;
    add.textContent = 'Add crystal';
    buttons.append(add);
    group.append(legend, grid, buttons);
    const status = document.createElement('p');
    status.id = `${id}-status`;
    status.className = 'hint';
    status.setAttribute('aria-live', 'polite');
    details.append(summary, file, group, status);
    box.append(details);

    input.addEventListener('change', () => {
      const files = Array.from(input.files || []);
      input.value = '';
      this.loadFiles(files);
    });
    add.addEventListener('click', () => this.addCustom());
    box.addEventListener('dragover', (e) => {
      e.preventDefault();
      e.stopPropagation();
      box.classList.add('over');
    });
    box.addEventListener('dragleave', () => box.classList.remove('over'));
    box.addEventListener('drop', (e) => {
      e.preventDefault();
      e.stopPropagation();
      box.classList.remove('over');
      if (e.dataTransfer?.files?.length) this.loadFiles(Array.from(e.dataTransfer.files));
    });
  }

  /** @param {string} text */
  setStatus(text) {
    $(`${this.id}-status`).textContent = text;
  }

  /**
   * Reads materials files into the catalog; a file's errors (which name it and the entry) go to the error box.
   * @param {Iterable<File>} files
   * @returns {Promise<Material[]>} the materials added
   */
  async loadFiles(files) {
    /** @type {Material[]} */
    const all = [];
    for (const f of files) all.push(...this.loadText(await f.text(), f.name));
    return all;
  }

  /**
   * Reads the text of a materials file into the catalog (none added on an error, which is shown).
   * @param {string} text
   * @param {string} name the file's name (errors name it)
   * @returns {Material[]} the materials added
   */
  loadText(text, name) {
    const wasm = this.hooks.wasm();
    if (!wasm) {
      this.hooks.showError(`${name}: the WebAssembly core is not loaded yet`);
      return [];
    }
    let rows;
    try {
      rows = wasm.parse_materials_file(text, name);
    } catch (e) {
      const m = messageOf(e);
      this.hooks.showError(m.includes(name) ? `Materials file ${m}` : `Materials file ${name}: ${m}`);
      this.setStatus(`${name}: not loaded (see the message above).`);
      return [];
    }
    if (!rows.length) {
      this.hooks.showError(`Materials file ${name}: no material in it`);
      return [];
    }
    const added = this.catalog.addDefined(rows, 'file');
    this.setStatus(`${name}: ${added.map((m) => m.name).join(', ')} added to the materials.`);
    this.hooks.added?.(added);
    return added;
  }

  /**
   * The custom crystal of the form as a definition, or {problems}.
   * @returns {{definition: MaterialDef | null, problems: string[]}}
   */
  readCustom() {
    const id = this.id;
    const val = (/** @type {string} */ k) => $(`${id}-${k}`, 'input').value.trim();
    const problems = [];
    const name = val('name');
    if (!name) problems.push('name: give one');
    const lattice = ['a', 'b', 'c', 'alpha', 'beta', 'gamma'].map((k, i) => {
      const v = Number(val(k));
      const ok = val(k) !== '' && Number.isFinite(v) && v > 0 && (i < 3 || v < 180);
      $(`${id}-${k}`, 'input').classList.toggle('invalid', !ok);
      if (!ok) problems.push(`${k}: ${i < 3 ? 'a length > 0 (Å)' : 'an angle between 0 and 180°'}`);
      return v;
    });
    const sgText = val('sg');
    const rule = val('rule');
    const sg = Number(sgText);
    if (sgText && !(Number.isInteger(sg) && sg >= 1 && sg <= 230)) problems.push('space group: a whole number from 1 to 230');
    if (!sgText && !rule) problems.push('give a space group number or an extinction rule');
    if (problems.length) return { definition: null, problems };
    /** @type {MaterialDef} */
    const definition = { name, lattice };
    if (sgText) definition.spacegroup = sg;
    if (rule) definition.extinction = rule;
    definition.source = 'custom crystal';
    return { definition, problems };
  }

  /**
   * Adds the form's crystal to the catalog (checked by the library); false (and a message) when it cannot.
   * @returns {Material | null}
   */
  addCustom() {
    const { definition, problems } = this.readCustom();
    if (!definition) {
      this.hooks.showError(`Custom crystal: ${problems.join('; ')}`);
      return null;
    }
    const wasm = this.hooks.wasm();
    if (!wasm) return null;
    let rows;
    try {
      rows = wasm.parse_materials_file(JSON.stringify([definition]), 'custom crystal');
    } catch (e) {
      this.hooks.showError(messageOf(e));
      return null;
    }
    const [m] = this.catalog.addDefined(rows, 'custom');
    this.setStatus(`${m.name} added to the materials (${m.laue_group}, rule ${m.rule}).`);
    this.hooks.added?.([m]);
    return m;
  }
}
