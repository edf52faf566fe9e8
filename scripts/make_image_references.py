#!/usr/bin/env python3
"""Reference values of the real shared images for tests/images.rs, read with tifffile and fabio
(independently of lauekit): shape, type, sum, extrema, a few pixels, and fabio's parse of the
MarCCD frame header. Writes tests/data/images/real_references.json.

    /opt/lauetools-venv/bin/python scripts/make_image_references.py   # needs numpy, tifffile, fabio
"""

import json
import os

import numpy as np
import tifffile
from fabio.marccdimage import HEADER_FORMAT, HEADER_NAMES, interpret_header

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SHARED = os.path.join(ROOT, "..", "shared", "data", "real")
IMAGES = ["Ge_blanc/Ge_blanc_0000.mccd", "Ge_sCMOS/img_Ge_sCMOS_0000.tif", "GaN_Si/nw1_0000.tif"]
PIXELS = [(0, 0), (1000, 1000), (123, 1456), (2017, 2015), (7, 1999)]


def marccd_header(path):
    with open(path, "rb") as f:
        f.seek(1024)
        raw = f.read(3072)
    h = interpret_header(raw, HEADER_FORMAT, HEADER_NAMES)
    out = {}
    for key, value in h.items():
        if key.endswith("]"):  # arrays: char ones come back as lists of single bytes
            name = key.split("[")[0]
            if name.startswith("reserve") or not all(isinstance(b, bytes) for b in value):
                continue
            text = b"".join(value).split(b"\0")[0].decode("latin-1").strip()
            if text:
                out[name] = text
        elif isinstance(value, int):
            out[key] = value
    return out


def main():
    refs = {}
    for rel in IMAGES:
        path = os.path.join(SHARED, rel)
        data = tifffile.imread(path)
        am = np.unravel_index(int(data.argmax()), data.shape)
        ref = {
            "rows": int(data.shape[0]),
            "cols": int(data.shape[1]),
            "dtype": str(data.dtype),
            "sum": int(data.sum(dtype=np.int64)),
            "max": int(data.max()),
            "argmax": [int(am[0]), int(am[1])],
            "min": int(data.min()),
            "pixels": [[r, c, int(data[r, c])] for r, c in PIXELS],
        }
        if rel.endswith(".mccd"):
            ref["marccd"] = marccd_header(path)
        refs[rel] = ref
    out = os.path.join(ROOT, "tests", "data", "images", "real_references.json")
    with open(out, "w") as f:
        json.dump(refs, f, indent=1, sort_keys=True)
    print("wrote", out)


if __name__ == "__main__":
    main()
