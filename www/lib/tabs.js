// The page's views as tabs: "Images & peaks" (default), "Simulator" and "Scan". The URL hash (#peaks, #simulator,
// #scan) selects one, so a view can be linked to; switching fires a `resize` so the shown view lays its canvas out.
// Keyboard (WAI-ARIA tabs): Tab reaches the selected tab; ←/→ (wrapping), Home and End select another one.

const TABS = ['peaks', 'simulator', 'scan'];

function show(name, updateHash) {
  if (!TABS.includes(name)) name = TABS[0];
  for (const t of TABS) {
    const on = t === name;
    const tab = document.getElementById(`tab-${t}`);
    const panel = document.getElementById(`view-${t}`);
    if (tab) {
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
    }
    if (panel) panel.hidden = !on;
  }
  document.body.dataset.view = name;
  if (updateHash && location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  window.dispatchEvent(new Event('resize'));
}

/** Shows view `name` ('peaks', 'simulator', 'scan') as a click on its tab does. */
export function showTab(name) {
  show(name, true);
}

function fromHash() {
  const h = location.hash.replace('#', '');
  return TABS.includes(h) ? h : TABS[0];
}

for (const t of TABS) {
  const tab = document.getElementById(`tab-${t}`);
  tab?.addEventListener('click', () => show(t, true));
  tab?.addEventListener('keydown', (e) => {
    const i = TABS.indexOf(t);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: TABS.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = TABS[(to + TABS.length) % TABS.length];
    show(next, true);
    document.getElementById(`tab-${next}`)?.focus();
  });
}
window.addEventListener('hashchange', () => show(fromHash(), false));
show(fromHash(), false);
