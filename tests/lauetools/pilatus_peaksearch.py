#!/usr/bin/env python3
"""LaueTools 3.2.19's PeakSearch on a PILATUS frame (int32, module gaps −1, bad pixels −2), as a LaueTools user
would run it, and how well it agrees with itself.

LaueTools has no PILATUS label. A label it does not know sends the frame through its MarCCD path (A − B clipped
inside a disc of radius min(rows, cols)/2 − 15 px centred on the frame: every peak outside that disc is lost),
so the frame is run under the label `EIGER_1M` with that label's table entry replaced by the PILATUS' frame
size, pixel and saturation: fabio reads the TIFF, and the background is removed by the settings' formula
(A − k·B, clipped to [0, saturation]) over the whole frame, as for LaueTools' other counting detectors.
LaueTools does not mask the gaps: its minimum-filter background is −1 next to a gap, so the raw counts there
pass the threshold and gap edges give peaks. Comparisons therefore count only the peaks whose fit box
(±boxsize px) holds no negative pixel.

    /opt/lauetools-venv/bin/python tests/lauetools/pilatus_peaksearch.py IMAGE PARAMS.json OUT.dat \
        [--saturation 1048575] [--seeds 4]

Writes LaueTools' list to OUT.dat (seed 0, unperturbed) and prints, for seeds 1.., LaueTools' agreement with
its own list when every fit box's pixels are changed by ~1e-7 counts (docs/peak-fit.md): recall, precision
(match within 0.5 px) and median distance, over all peaks and over the peaks clear of the gaps.
"""
import argparse, contextlib, io, json, os, warnings
warnings.filterwarnings("ignore")
import matplotlib
matplotlib.use("Agg")
import numpy as np
from scipy.spatial import cKDTree
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    import fabio
    import LaueTools.readmccd as RMCCD
    import LaueTools.IOLaueTools as IOLT
    import LaueTools.IOimagefile as IOimage
    import LaueTools.dict_LaueTools as DictLT

ap = argparse.ArgumentParser()
ap.add_argument("image"); ap.add_argument("params"); ap.add_argument("out")
ap.add_argument("--saturation", type=float, default=1048575.0,
                help="the counter's saturation (PILATUS3: 2^20 - 1 counts)")
ap.add_argument("--seeds", type=int, default=4)
a = ap.parse_args()

data = fabio.open(a.image).data
rows, cols = data.shape
DictLT.dict_CCD["EIGER_1M"] = ((rows, cols), 0.172, a.saturation, "no", 0, str(data.dtype),
                               "PILATUS frame run through the EIGER_1M path", "tif")
kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in json.load(open(a.params)).items()}
box = int(kw.get("boxsize", 15))


def clear_of_gaps(xy):
    """Whether each peak's fit box (LaueTools' position_definition 1: pixel centres at 1, 1) holds no gap."""
    out = []
    for x, y in xy:
        r, c = int(round(y - 1)), int(round(x - 1))
        win = data[max(r - box, 0):r + box + 1, max(c - box, 0):c + box + 1]
        out.append(bool((win >= 0).all()) and box <= r < rows - box and box <= c < cols - box)
    return np.array(out, dtype=bool)


original = IOimage.readoneimage_manycrops
reference = None
for seed in range(a.seeds + 1):
    rng = np.random.default_rng(seed)

    def crops(*args, **k):
        res = original(*args, **k)
        boxes, extra = (res if isinstance(res, tuple) else (res, None))
        boxes = [np.asarray(b, dtype=float) + (rng.normal(size=np.shape(b)) * 1e-7 if seed else 0) for b in boxes]
        return (boxes, extra) if extra is not None else boxes

    RMCCD.IOimage.readoneimage_manycrops = crops
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        res = RMCCD.PeakSearch(a.image, CCDLabel="EIGER_1M", return_histo=0, **kw)
    found = np.asarray(res[0])
    if seed == 0:
        reference = found
        stem = a.out[:-4] if a.out.endswith(".dat") else a.out
        with contextlib.redirect_stdout(io.StringIO()):
            IOLT.writefile_Peaklist(stem, found, 1, initialfilename=os.path.basename(a.image),
                                    comments="LaueTools 3.2.19 PeakSearch, PILATUS via the EIGER_1M path, "
                                             "saturation %g, %s" % (a.saturation, kw))
        clear = clear_of_gaps(found[:, :2])
        print(f"{a.image}: {len(found)} peaks, {clear.sum()} with their fit box clear of the gaps")
        continue
    d, _ = cKDTree(found[:, :2]).query(reference[:, :2])
    d2, _ = cKDTree(reference[:, :2]).query(found[:, :2])
    rc, fc = clear_of_gaps(reference[:, :2]), clear_of_gaps(found[:, :2])
    print(f"seed {seed}: {len(found)} peaks: recall {(d <= 0.5).mean():.3f}, precision {(d2 <= 0.5).mean():.3f}; "
          f"clear of the gaps: recall {(d[rc] <= 0.5).mean():.3f}, precision {(d2[fc] <= 0.5).mean():.3f}, "
          f"median {np.median(d[rc & (d <= 0.5)]):.4f} px", flush=True)
