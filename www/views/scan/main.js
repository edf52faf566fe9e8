// The "Scan" view's entry: the scan panel (scan.js, its composition root: the images of a scan, its grid and
// calibration, the pipeline over a pool of workers, the maps; `window.lauekitScan`) and the cluster panel below it
// (cluster.js, its composition root: indexing-free clustering of the same images; `window.lauekitCluster`), which
// reads its input from the scan panel. Each panel starts itself when its module is evaluated; this module is the
// view's one entry in index.html.

import { api as scan } from './scan.js';
import { api as cluster } from './cluster.js';

/** Both panels ready (their `ready` promises; each reports its own failure). */
export const ready = Promise.allSettled([scan.ready, cluster.ready]);
