// "Explained" (issue 16 item 4): the help of every setting and column (help.js, applied here at start-up), the
// first screen's "what to do" (dismissible), and the teaching mode — a drawer ("Teach me") with one section per step
// of the analysis written for a student, each with links that switch to the live Simulator and set it up.
// The drawer is keyboard accessible: the toggle has aria-expanded, Esc closes it and gives the focus back, and the
// section matching the view shown opens first. For tests: `window.lauekitExplain`.

import { $ } from './dom.js';
import { initHelp } from './help.js';
import { showTab } from './tabs.js';

const STEPS_KEY = 'lauekit-first-steps-dismissed';

/** View (and state) → the teaching section to open first. */
function sectionFor(view) {
  if (view === 'simulator') return 'teach-geometry';
  if (view === 'scan') return 'teach-clusters';
  const p = window.lauekitPeaks;
  const img = p?.current?.();
  if (img?.index) return 'teach-index';
  if (img?.quality) return 'teach-cnn';
  return 'teach-peaks';
}

export const api = {
  /** Opens the teaching drawer (at the section of the view shown, or `section`). */
  open: (section) => openDrawer(section),
  close: () => closeDrawer(),
  isOpen: () => !$('teach').hidden,
  /** The section opened first for the view shown. */
  sectionFor: () => sectionFor(document.body.dataset.view),
  /** Runs a Simulator set-up of the drawer (name as in data-sim), for tests. */
  simulate: (name) => simulate(name),
};
window.lauekitExplain = api;

// ------------------------------------------------------------------------------------------------- first steps

function initSteps() {
  const box = $('first-steps');
  if (!box) return;
  let dismissed = false;
  try {
    dismissed = localStorage.getItem(STEPS_KEY) === '1';
  } catch {
    // storage may be unavailable (private mode): show the steps
  }
  box.hidden = dismissed;
  $('first-steps-close').addEventListener('click', () => {
    box.hidden = true;
    try {
      localStorage.setItem(STEPS_KEY, '1');
    } catch {
      // nothing to keep
    }
    $('teach-toggle')?.focus();
  });
  $('first-steps-example').addEventListener('click', () => {
    showTab('peaks');
    $('load-example-image')?.click();
  });
}

// ------------------------------------------------------------------------------------------------------ drawer

let opener = null;

function openDrawer(section = null) {
  const d = $('teach');
  const id = section || sectionFor(document.body.dataset.view);
  opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  d.hidden = false;
  $('teach-toggle').setAttribute('aria-expanded', 'true');
  document.body.classList.add('teaching');
  const target = $(id, 'details');
  if (target) {
    target.open = true;
    target.scrollIntoView({ block: 'start' });
  }
  (target?.querySelector('summary') ?? $('teach-close')).focus();
}

function closeDrawer() {
  const d = $('teach');
  if (d.hidden) return;
  d.hidden = true;
  $('teach-toggle').setAttribute('aria-expanded', 'false');
  document.body.classList.remove('teaching');
  const back = opener && document.contains(opener) && opener.offsetParent !== null ? opener : $('teach-toggle');
  back.focus();
  opener = null;
}

/** Sets a Simulator input and lets the Simulator react as to typing. */
function setSim(id, value) {
  const el = $(id, 'input');
  if (!el) return;
  el.value = String(value);
  el.dispatchEvent(new Event('input', { bubbles: true }));
}

function setRadio(name, value) {
  const el = /** @type {HTMLInputElement} */ (document.querySelector(`input[name="${name}"][value="${value}"]`));
  if (!el) return;
  el.checked = true;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
}

/** Waits (≤ 5 s) until `pred()` holds. */
async function until(pred) {
  for (let t = 0; t < 100 && !pred(); t++) await new Promise((r) => setTimeout(r, 50));
}

/** The Simulator set-ups the drawer's links ask for. */
async function simulate(name) {
  showTab('simulator');
  const sim = window.lauekit;
  if (sim?.ready) await sim.ready.catch(() => {});
  const exampleGeometry = async () => {
    const before = $('det-info').textContent;
    $('load-example').click();
    await until(() => $('det-info').textContent !== before && /^Loaded/.test($('det-info').textContent));
  };
  if (name === 'cu-example') {
    await exampleGeometry();
    setSim('material', 'Cu');
    setRadio('view', 'pixels');
  } else if (name === 'angles') {
    setRadio('view', 'angles');
  } else if (name === 'band-narrow') {
    setSim('emin', 5);
    setSim('emax', 12);
  } else if (name === 'band-wide') {
    setSim('emin', 5);
    setSim('emax', 30);
  } else if (name === 'ge-example') {
    await exampleGeometry();
    setRadio('view', 'pixels');
  } else if (name === 'turn') {
    setSim('rot-z', 5);
  }
  $('pattern')?.scrollIntoView({ block: 'nearest' });
}

function initDrawer() {
  const d = $('teach');
  if (!d) return;
  $('teach-toggle').addEventListener('click', () => (d.hidden ? openDrawer() : closeDrawer()));
  $('teach-close').addEventListener('click', () => closeDrawer());
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !d.hidden) {
      e.preventDefault();
      closeDrawer();
    }
  });
  d.addEventListener('click', (e) => {
    const b = /** @type {HTMLElement | null} */ (/** @type {Element} */ (e.target).closest('[data-sim], [data-tab]'));
    if (!b) return;
    if (b.dataset.sim) simulate(b.dataset.sim);
    else showTab(b.dataset.tab);
  });
}

initHelp();
initSteps();
initDrawer();
