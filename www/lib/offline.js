// Offline support of the published site: registers ../../sw.js (the site's root) when the page is the `make site`
// build (a <meta name="lauekit-site"> in index.html), and offers a reload when a newer version has been installed.
// Serving the repository for development (`make serve`) registers nothing.

const SW_URL = new URL('../../sw.js', import.meta.url);

function offerReload(waiting) {
  const bar = document.createElement('div');
  bar.className = 'update-bar';
  bar.setAttribute('role', 'status');
  bar.textContent = 'A new version of lauekit is ready. ';
  const button = document.createElement('button');
  button.type = 'button';
  button.textContent = 'Reload to use it';
  button.addEventListener('click', () => {
    navigator.serviceWorker.addEventListener('controllerchange', () => window.location.reload(), { once: true });
    waiting.postMessage({ type: 'skip-waiting' });
  });
  bar.append(button);
  document.body.prepend(bar);
}

async function register() {
  if (!('serviceWorker' in navigator) || !document.querySelector('meta[name="lauekit-site"]')) return;
  try {
    // Offline, register() cannot fetch sw.js to check for a newer version: keep the registration there is.
    const reg = await navigator.serviceWorker.register(SW_URL, { scope: new URL('./', SW_URL).href })
      .catch(async (e) => (await navigator.serviceWorker.getRegistration(new URL('./', SW_URL).href)) ?? Promise.reject(e));
    const hadController = Boolean(navigator.serviceWorker.controller);
    if (reg.waiting && hadController) offerReload(reg.waiting);
    reg.addEventListener('updatefound', () => {
      const incoming = reg.installing;
      incoming?.addEventListener('statechange', () => {
        if (incoming.state === 'installed' && navigator.serviceWorker.controller) offerReload(incoming);
      });
    });
    window.lauekitOffline = { registration: reg };
  } catch (e) {
    console.warn(`lauekit: offline support unavailable (${e && e.message ? e.message : e})`);
  }
}

register();
