"""LaueTools 3.2.19's own readers (IOLaueTools) on the files lauekit writes; checks the numbers, prints a summary.
Called by readback.sh (which writes the files); exits 1 on the first disagreement."""
import contextlib, io, json, sys, warnings
warnings.filterwarnings("ignore")
import numpy as np
with contextlib.redirect_stdout(io.StringIO()):
    import LaueTools.IOLaueTools as IOLT

work = sys.argv[1]
fail = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fail.append(what)

# .dat and .cor of `lauekit peaks` (Ge_blanc)
ours = json.load(open(f"{work}/peaks.json"))
with contextlib.redirect_stdout(io.StringIO()):
    dat = IOLT.read_Peaklist(f"{work}/ge.dat")
check(len(dat) == len(ours["peaks"]), f".dat: {len(dat)} peaks read, lauekit wrote {len(ours['peaks'])}")
xy = np.array([[p["x"], p["y"]] for p in ours["peaks"]])
check(np.abs(dat[:, :2] - xy).max() < 1e-2, f".dat: peak positions agree within {np.abs(dat[:, :2] - xy).max():.2e} px")
with contextlib.redirect_stdout(io.StringIO()):
    cor = IOLT.readfile_cor(f"{work}/ge.cor", output_CCDparamsdict=True)
tth, chi, x, y = cor[1], cor[2], cor[3], cor[4]
check(len(tth) == len(ours["peaks"]), f".cor: {len(tth)} spots (2θ, χ, x, y, I) read")
check(np.abs(np.array(x) - xy[:, 0]).max() < 1e-2, f".cor: x column agrees within {np.abs(np.array(x) - xy[:, 0]).max():.1e} px")
given = IOLT.readCalib_det_file(sys.argv[2])["CCDCalibParameters"]
got = cor[6]
check(np.abs(np.array(got[:5]) - np.array(given[:5])).max() < 1e-6, f".cor: calibration header {np.round(got[:5], 4).tolist()}")

# .fit of `lauekit index` with two grains (CuSi, LaueTools' example) in one file
fitj = json.load(open(f"{work}/cusi.json"))
with contextlib.redirect_stdout(io.StringIO()):
    res = IOLT.readfitfile_multigrains(f"{work}/cusi.fit", readmore=True)
grains, nspots, ubs = res[0], res[1], res[3]
check(len(grains) == 2, f".fit: {len(grains)} grains read from one file, spots {list(nspots)}")
for k, g in enumerate(fitj["grains"]):
    ub = np.array(ubs[k]).reshape(3, 3)
    d = np.abs(ub - np.array(g["ub"])).max()
    check(d < 1e-7, f".fit grain {k} ({g['material']}): UB agrees within {d:.1e}")
    check(nspots[k] == g["n_indexed"], f".fit grain {k}: {nspots[k]} spots, lauekit {g['n_indexed']}")
strain6, strain_sample, euler = res[7], res[8], res[9]
for k, g in enumerate(fitj["grains"]):
    check(np.abs(np.array(euler[k]) - np.array(g["euler"])).max() < 2e-3, f".fit grain {k}: Euler angles agree")

# .det of `lauekit calibrate`
det = IOLT.readCalib_det_file(f"{work}/ge.det")
calj = json.load(open(f"{work}/calib.json"))
p = det["CCDCalibParameters"]
want = [calj["calibration"][k] for k in ("distance_mm", "xcen_px", "ycen_px", "xbet_deg", "xgam_deg")]
check(np.abs(np.array(p[:5]) - np.array(want)).max() < 1e-3, f".det: parameters {np.round(p[:5], 4).tolist()}")
check(abs(det["xpixelsize"] - 0.079142) < 1e-6, f".det: pixel size {det['xpixelsize']}")
check(tuple(det["framedim"]) == (2048, 2048), f".det: frame {det['framedim']}")
sys.exit(1 if fail else 0)
