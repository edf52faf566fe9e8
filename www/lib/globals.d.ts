// What the page's modules put on `window` (the end-to-end tests reach the views through them), for the type check
// (tsconfig.json). Not loaded by the page.

interface Window {
  /** The Simulator view (views/simulator/main.js). */
  lauekit: typeof import('../views/simulator/main.js').api;
  /** The "Images & peaks" view (views/peaks/state.js). */
  lauekitPeaks: typeof import('../views/peaks/state.js').api;
  /** The Scan view's scan panel (views/scan/scan.js). */
  lauekitScan: typeof import('../views/scan/scan.js').api;
  /** The Scan view's cluster panel (views/scan/cluster.js). */
  lauekitCluster: typeof import('../views/scan/cluster.js').api;
  /** "Explained": the help and the teaching drawer (lib/explain.js). */
  lauekitExplain: typeof import('./explain.js').api;
  /** The published site's service worker registration (lib/offline.js). */
  lauekitOffline: { registration: ServiceWorkerRegistration };
  /** index.html's message when the page's scripts do not load. */
  __lauekitBootError: (message: string) => void;
}
