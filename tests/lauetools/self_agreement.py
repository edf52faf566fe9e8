#!/usr/bin/env python3
"""How well LaueTools 3.2.19's PeakSearch agrees with itself when every fit box's pixels are changed by
~1e-7 counts (Gaussian, far below any detector's noise): the ceiling of any peak search compared with
LaueTools' lists on crowded, broad or weak spots, where LaueTools' fit end point is set by rounding noise
(docs/peak-fit.md).

    /opt/lauetools-venv/bin/python tests/lauetools/self_agreement.py IMAGE CCD PARAMS.json REFERENCE.dat [SEEDS]

Prints, per seed, LaueTools' peak count and its recall / precision (match within 0.5 px) / median distance
against REFERENCE.dat (LaueTools' own list; seed 0 is unperturbed).
"""
import contextlib, io, json, sys, warnings
warnings.filterwarnings("ignore")
import matplotlib
matplotlib.use("Agg")
import numpy as np
from scipy.spatial import cKDTree
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    import LaueTools.readmccd as RMCCD
    import LaueTools.IOimagefile as IOimage


def load(path):
    rows = []
    for line in open(path):
        line = line.strip()
        if not line or line[0] in "#pP":
            continue
        try:
            rows.append([float(x) for x in line.split()])
        except ValueError:
            pass
    return np.array(rows)


img, ccd, params, ref = sys.argv[1:5]
seeds = int(sys.argv[5]) if len(sys.argv) > 5 else 4
kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in json.load(open(params)).items()}
reference = load(ref)
original = IOimage.readoneimage_manycrops
for seed in range(seeds):
    rng = np.random.default_rng(seed)

    def crops(*a, **k):
        res = original(*a, **k)
        boxes, extra = (res if isinstance(res, tuple) else (res, None))
        boxes = [np.asarray(b, dtype=float) + (rng.normal(size=np.shape(b)) * 1e-7 if seed else 0) for b in boxes]
        return (boxes, extra) if extra is not None else boxes

    RMCCD.IOimage.readoneimage_manycrops = crops
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        res = RMCCD.PeakSearch(img, CCDLabel=ccd, return_histo=0, **kw)
    found = np.asarray(res[0])
    d, _ = cKDTree(found[:, :2]).query(reference[:, :2])
    d2, _ = cKDTree(reference[:, :2]).query(found[:, :2])
    print(f"seed {seed}: {len(found)} peaks (reference {len(reference)}): recall {(d <= 0.5).mean():.3f}, "
          f"precision {(d2 <= 0.5).mean():.3f}, median {np.median(d[d <= 0.5]):.4f} px", flush=True)
