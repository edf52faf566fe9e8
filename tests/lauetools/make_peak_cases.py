#!/usr/bin/env python3
"""Synthetic sCMOS frames that reproduce, one cause each, the spots on which a peak search can part from
LaueTools' (issue 17): touching spots (2.5–4.5 px apart), close spots (5–10 px apart), and broad weak spots
on backgrounds of 100, 1000 and 5000 counts. Each frame is 2018 rows × 2016 columns (LaueTools' sCMOS frame) with a
500 × 500 patch of Poisson-noisy spots; the rest is the flat background (so the files compress well).

Writes tests/data/peak_cases/<case>.tif, <case>.json (PeakSearch settings), <case>_truth.tsv (x y of every
spot, LaueTools' pixel convention: first pixel centre at (1, 1)) and, with LaueTools 3.2.19
(../shared/tools/lauetools/peaksearch.py in its venv), <case>_lauetools.dat.

    /opt/lauetools-venv/bin/python tests/lauetools/make_peak_cases.py
"""
import json, os, subprocess, sys
import numpy as np
import tifffile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "peak_cases")
LT = os.path.join(HERE, "..", "..", "..", "shared", "tools", "lauetools", "peaksearch.py")
ROWS, COLS = 2018, 2016  # sCMOS (LaueTools dict_CCD): 2018 rows × 2016 columns
R0, C0, SIDE = 200, 200, 500  # the patch, away from the sCMOS centre bands


def spot(img, x, y, amp, s1, s2, theta):
    """Adds a rotated Gaussian at (x, y) (0-based column, row)."""
    r0, c0 = int(y) - 12, int(x) - 12
    rr, cc = np.mgrid[r0:r0 + 25, c0:c0 + 25]
    t = np.radians(theta)
    a = (cc - x) * np.cos(t) + (rr - y) * np.sin(t)
    b = -(cc - x) * np.sin(t) + (rr - y) * np.cos(t)
    img[r0:r0 + 25, c0:c0 + 25] += amp * np.exp(-0.5 * (a * a / s1 ** 2 + b * b / s2 ** 2))


def place(rng, n, min_gap, spots):
    """Up to n centres in the patch (12 px from its edges), at least min_gap from earlier ones."""
    out = []
    while len(out) < n:
        x, y = rng.uniform(C0 + 30, C0 + SIDE - 30), rng.uniform(R0 + 30, R0 + SIDE - 30)
        if all(np.hypot(x - u, y - v) >= min_gap for u, v in out + spots):
            out.append((x, y))
    return out


def case(name, seed, background, threshold, pairs=None, broad=None):
    rng = np.random.default_rng(seed)
    img = np.zeros((ROWS, COLS))
    truth = []
    if pairs:
        lo, hi = pairs
        for x, y in place(rng, 36, 40, []):
            d, phi = rng.uniform(lo, hi), rng.uniform(0, np.pi)
            a1 = rng.uniform(4, 60) * threshold
            for k, (px, py) in enumerate([(x, y), (x + d * np.cos(phi), y + d * np.sin(phi))]):
                amp = a1 if k == 0 else a1 * rng.uniform(0.2, 1.0)
                s = rng.uniform(0.8, 1.5)
                spot(img, px, py, amp, s, s * rng.uniform(0.8, 1.25), rng.uniform(0, 180))
                truth.append((px + 1, py + 1, amp))
    if broad:
        for x, y in place(rng, 60, 25, []):
            amp = rng.uniform(*broad) * threshold
            s = rng.uniform(1.4, 2.6)
            spot(img, x, y, amp, s, s * rng.uniform(0.7, 1.3), rng.uniform(0, 180))
            truth.append((x + 1, y + 1, amp))
    frame = np.full((ROWS, COLS), float(background))
    patch = img[R0:R0 + SIDE, C0:C0 + SIDE] + background
    frame[R0:R0 + SIDE, C0:C0 + SIDE] = rng.poisson(patch)
    frame = np.clip(frame, 0, 65535).astype(np.uint16)
    base = os.path.join(OUT, name)
    tifffile.imwrite(base + ".tif", frame, compression="zlib")
    params = {"local_maxima_search_method": 0, "IntensityThreshold": threshold, "PixelNearRadius": 10,
              "boxsize": 15, "xtol": 0.001, "FitPixelDev": 6.0, "Saturation_value": 65534,
              "Saturation_value_flatpeak": 65534, "MinIntensity": 0, "PeakSizeRange": [0.65, 3.0],
              "fit_peaks_gaussian": 1, "position_definition": 1, "Data_for_localMaxima": "auto_background",
              "formulaexpression": "A-B"}
    json.dump(params, open(base + ".json", "w"), indent=1)
    with open(base + "_truth.tsv", "w") as f:
        f.write("x\ty\tamplitude\n")
        for x, y, a in truth:
            f.write(f"{x:.4f}\t{y:.4f}\t{a:.1f}\n")
    py = sys.executable
    res = subprocess.run([py, LT, base + ".tif", "--ccd", "sCMOS", "--params", base + ".json", "--repeat", "1",
                          "--dat", base + "_lauetools.dat"], capture_output=True, text=True, check=True)
    print(name, json.loads(res.stdout)["npeaks"], "LaueTools peaks,", len(truth), "spots")


os.makedirs(OUT, exist_ok=True)
case("touching", 1, 200, 150, pairs=(2.5, 4.5))
case("close", 2, 200, 150, pairs=(5.0, 10.0))
case("broad_bg100", 3, 100, 50, broad=(1.5, 5))
case("broad_bg1000", 4, 1000, 150, broad=(1.5, 5))
case("broad_bg5000", 5, 5000, 350, broad=(1.5, 5))
