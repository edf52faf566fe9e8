"""Times LaueTools 3.2.19 lauecore.SimulateLaue_full_np on the inputs of `lauekit bench simulate`.

Usage: python lauetools_bench_simulate.py MATERIAL [SECONDS]
Prints one line: lauetools simulate material=... spots=... patterns=... us_per_pattern=...
"""
import contextlib
import io
import sys
import time
import warnings

warnings.filterwarnings("ignore")
import matplotlib

matplotlib.use("Agg")
import numpy as np

with contextlib.redirect_stdout(io.StringIO()):
    import LaueTools.CrystalParameters as CP
    import LaueTools.lauecore as LT

material = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0
calib = [70.0, 1024.0, 1024.0, 0.0, 0.0]
grain = CP.Prepare_Grain(material, np.eye(3))


def once():
    with contextlib.redirect_stdout(io.StringIO()):
        tth, chi, hkl, x, y, E = LT.SimulateLaue_full_np(grain, 5.0, 22.0, calib, kf_direction="Z>0",
                                                          removeharmonics=0, pixelsize=0.079142,
                                                          dim=(2048, 2048), detectordiameter=1000.0)
    x, y = np.asarray(x), np.asarray(y)
    # The same frame cut as lauekit (LaueTools itself stops at the disc).
    return int(((x >= 0) & (x < 2048) & (y >= 0) & (y < 2048)).sum())


n_spots = once()
n, t0 = 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    once()
    n += 1
dt = time.perf_counter() - t0
print("lauetools simulate material=%s spots=%d patterns=%d seconds=%.3f us_per_pattern=%.2f patterns_per_s=%.0f"
      % (material, n_spots, n, dt, dt / n * 1e6, n / dt))
