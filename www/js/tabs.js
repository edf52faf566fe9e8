// The page's two views as tabs: "Images & peaks" (default) and "Simulator". The URL hash (#peaks, #simulator)
// selects one, so a view can be linked to; switching fires a `resize` so the shown view lays its canvas out.

const TABS = ['peaks', 'simulator'];

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

function fromHash() {
  const h = location.hash.replace('#', '');
  return TABS.includes(h) ? h : TABS[0];
}

for (const t of TABS) {
  document.getElementById(`tab-${t}`)?.addEventListener('click', () => show(t, true));
}
window.addEventListener('hashchange', () => show(fromHash(), false));
show(fromHash(), false);
