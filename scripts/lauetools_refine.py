"""LaueTools' own refinements of Ge_blanc's indexed spots, timed; prints JSON (run in /opt/lauetools-venv).

Usage: python lauetools_refine.py FIT DET [--lauekit-pairs PAIRS.json] [--repeat 20] [--offset 2,30,0.5]

The hkl/spot pairs are LaueTools' own: the spots of its `.fit` (DetectorCalibration's result on
Ge_blanc_0000_LT_5.dat: spot index, h k l, Xexp, Yexp), with the orientation matrix and detector parameters of
the `.det`. Calibration fixed at the `.det` values for the grain; no intensity weights on either fit (lauekit
minimises the unweighted pixel distances).

* grain: `FitOrient.fit_on_demand_strain` (5 strain parameters b/a, c/a, a12, a13, a23 + 3 orientation angles,
  as `indexingSpotsSet.refineUBSpotsFamily` and `LaueAutoAnalysis` call it), from the start orientation of
  `lauekit bench refine --pairs-out` (its indexed orientation, strain removed, turned by 0.05°). lauekit writes
  the cubic grain in another of the 24 equivalent settings than this `.fit`: the script finds the integer
  matrix T with hkl_lauekit = T·hkl_fit common to all pairs (which also checks that both refine the same
  spots), starts LaueTools from UB_lauekit·T and reports its refined UB and deviatoric strain in lauekit's
  setting (UB·T⁻¹) as well as in its own.
* calibration: `FitOrient.fit_on_demand_calibration` (dd, xcen, ycen, xbet, xgam + 3 orientation angles, as
  `LaueAutoAnalysis` ~l. 856 and `DetectorCalibration` call it: pure rotation of the `.det` orientation matrix,
  hkl as given), once from the `.det` values and once from them shifted by dd +2 mm, xcen and ycen +30 px,
  xbet and xgam +0.5°.

Times are medians over --repeat calls of the fit function alone (the pairs are set up outside the timing).
"""
import argparse, contextlib, io, json, time, warnings
warnings.filterwarnings("ignore")
import matplotlib
matplotlib.use("Agg")
import numpy as np
with contextlib.redirect_stdout(io.StringIO()):  # LaueTools prints at import
    import LaueTools.FitOrient as FitO
    import LaueTools.CrystalParameters as CP
    import LaueTools.IOLaueTools as IOLT
    import LaueTools.dict_LaueTools as DictLT

ap = argparse.ArgumentParser()
ap.add_argument("fit"); ap.add_argument("det")
ap.add_argument("--material", default="Ge")
ap.add_argument("--lauekit-pairs", help="JSON of `lauekit bench refine --pairs-out` (start UB and pairs)")
ap.add_argument("--repeat", type=int, default=20)
ap.add_argument("--offset", default="2,30,0.5", help="dd mm, xcen/ycen px, xbet/xgam deg")
a = ap.parse_args()

# ---- LaueTools' pairs: the data rows of the .fit (spot_index Itot h k l Xtheo Ytheo Xexp Yexp ...)
rows = []
with open(a.fit) as f:
    for line in f:
        if line.startswith("#"):
            if rows:
                break
            continue
        v = line.split()
        if len(v) >= 9:
            rows.append([float(x) for x in v[:9]])
rows = np.array(rows)
spot_index = rows[:, 0].astype(int)
miller = rows[:, 2:5]
pixX, pixY = rows[:, 7].copy(), rows[:, 8].copy()
nspots = np.arange(len(rows))

ccd = IOLT.readCalib_det_file(a.det)
det_params = [float(v) for v in ccd["CCDCalibParameters"]][:5]
det_ub = np.array(ccd["UB_calib"], dtype=float).reshape(3, 3)
pixelsize = float(ccd["xpixelsize"])
dim = tuple(int(v) for v in ccd["framedim"])
latticeparams = DictLT.dict_Materials[a.material][1]
B0 = CP.calc_B_RR(latticeparams)


def median_time(f, n):
    out, ts = None, []
    for _ in range(n):
        t = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            out = f()
        ts.append(time.perf_counter() - t)
    return out, float(np.median(ts)), float(np.min(ts))


def devstrain_1e3(ub):
    with contextlib.redirect_stdout(io.StringIO()):
        d = CP.evaluate_strain_fromUBmat(ub, a.material, constantlength="a", dictmaterials=DictLT.dict_Materials)[0]
    d = np.asarray(d) * 1e3
    return [float(d[0, 0]), float(d[1, 1]), float(d[2, 2]), float(d[0, 1]), float(d[0, 2]), float(d[1, 2])]


result = {"pairs": int(len(rows)), "repeat": a.repeat}

# ---- grain: orientation + deviatoric strain (8 parameters), calibration fixed
if a.lauekit_pairs:
    lk = json.load(open(a.lauekit_pairs))
    lk_hkl = {int(p["peak"]): np.array(p["hkl"], dtype=float) for p in lk["pairs"]}
    common = [k for k, s in enumerate(spot_index) if s in lk_hkl]
    H = miller[common]                                     # .fit setting
    K = np.array([lk_hkl[spot_index[k]] for k in common])  # lauekit setting
    T = np.round(np.linalg.lstsq(H, K, rcond=None)[0].T)   # K ≈ (T·H)
    same = int(np.sum(np.all(np.abs(H @ T.T - K) < 1e-9, axis=1)))
    result["same_pairs_as_lauekit"] = {"lauekit": len(lk_hkl), "lauetools": int(len(rows)),
                                       "same_spot_and_hkl": same, "T_hkl_lauekit_from_fit": T.astype(int).tolist()}
    start_ub = np.array(lk["start_ub"], dtype=float).reshape(3, 3) @ T
    start_desc = "lauekit's start (indexed orientation, strain removed, turned 0.05 deg), in the .fit setting"
else:
    T = np.eye(3)
    start_ub = det_ub
    start_desc = ".det orientation matrix"

allparameters = np.array(det_params + [1, 1, 0, 0, 0] + [0, 0, 0], dtype=float)
arr_strain = np.arange(5, 13)
init_strain = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])


def fit_strain():
    return FitO.fit_on_demand_strain(init_strain, miller, allparameters, FitO.error_function_on_demand_strain,
                                     arr_strain, nspots, pixX, pixY, initrot=start_ub, Bmat=B0, pixelsize=pixelsize,
                                     dim=dim, verbose=0, weights=None, kf_direction="Z>0")


sol, t_med, t_min = median_time(fit_strain, a.repeat)
residues, deltamat, newub = FitO.error_function_on_demand_strain(
    sol, miller, allparameters, arr_strain, nspots, pixX, pixY, initrot=start_ub, Bmat=B0, pureRotation=0,
    verbose=1, pixelsize=pixelsize, dim=dim, weights=None, kf_direction="Z>0")
ub_lk = newub @ np.linalg.inv(T)
result["refine"] = {
    "function": "FitOrient.fit_on_demand_strain (leastsq, 8 parameters)",
    "start": start_desc, "median_s": t_med, "min_s": t_min,
    "rms_px": float(np.sqrt(np.mean(residues ** 2))), "mean_px": float(np.mean(residues)),
    "params_b/a_c/a_a12_a13_a23_th1_th2_th3": [float(v) for v in sol],
    "ub_lauekit_setting": ub_lk.round(9).tolist(),
    "devstrain_1e3_xx_yy_zz_xy_xz_yz_lauekit_setting": devstrain_1e3(ub_lk),
    "devstrain_1e3_xx_yy_zz_xy_xz_yz_fit_setting": devstrain_1e3(newub),
}

# ---- calibration: 5 detector parameters + 3 orientation angles
dd, dx, db = (float(v) for v in a.offset.split(","))
shift = np.array([dd, dx, dx, db, db])
arr_calib = np.arange(8)
result["calibrate"] = {}
for name, start in (("det", np.array(det_params)), ("offset", np.array(det_params) + shift)):
    init = np.concatenate([start, [0.0, 0.0, 0.0]])

    def fit_calib():
        allp = np.concatenate([start, [0.0, 0.0, 0.0]])  # xy_from_Quat writes into it: a fresh one per call
        return FitO.fit_on_demand_calibration(init.copy(), miller, allp, FitO.error_function_on_demand_calibration,
                                              arr_calib, nspots, pixX, pixY, initrot=det_ub, vecteurref=np.eye(3),
                                              pureRotation=1, pixelsize=pixelsize, dim=dim, verbose=0,
                                              weights=None, kf_direction="Z>0")

    sol, t_med, t_min = median_time(fit_calib, a.repeat)
    allp = np.concatenate([start, [0.0, 0.0, 0.0]])
    dist = FitO.error_function_on_demand_calibration(sol, miller, allp, arr_calib, nspots, pixX, pixY,
                                                     initrot=det_ub, vecteurref=np.eye(3), pureRotation=1,
                                                     verbose=0, pixelsize=pixelsize, dim=dim, weights=None,
                                                     kf_direction="Z>0")
    result["calibrate"][name] = {
        "function": "FitOrient.fit_on_demand_calibration (least_squares, 8 parameters)",
        "start_params": [float(v) for v in start], "median_s": t_med, "min_s": t_min,
        "params": [float(v) for v in sol[:5]], "angles_deg": [float(v) for v in sol[5:]],
        "rms_px": float(np.sqrt(np.mean(dist ** 2))), "mean_px": float(np.mean(dist)),
    }
print(json.dumps(result))
