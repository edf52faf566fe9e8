"""Writes the LaueTools dialect fixtures of tests/data/lauetools/dialects/ with LaueTools 3.2.19's own writers:
peak search .dat (IOLaueTools.writefile_Peaklist and readmccd.writepeaklist), .cor (LaueGeometry.convert2corfile
with and without the detector dictionary, with the spot properties), .fit and *_unindexed_.cor (indexingSpotsSet),
.psp (readmccd.savePeakSearchConfigFile). LaueTools' .det writer lives in its wx GUI (DetectorCalibration.OnSaveCalib)
and cannot be driven here; the .det files of ../shared/data are that writer's output.

Run once, from the repository root:  /opt/lauetools-venv/bin/python tests/lauetools/make_dialects.py
The tests (tests/hostile/readers.rs) read the committed outputs and do not need the venv.
"""
import contextlib, glob, io, json, os, shutil, tempfile, warnings
warnings.filterwarnings("ignore")
import matplotlib
matplotlib.use("Agg")
import numpy as np
with contextlib.redirect_stdout(io.StringIO()):  # LaueTools prints at import
    import LaueTools.readmccd as RMCCD
    import LaueTools.IOLaueTools as IOLT
    import LaueTools.LaueGeometry as LTGeo
    import LaueTools.indexingSpotsSet as ISS

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
gb = os.path.join(root, "..", "shared", "data", "real", "Ge_blanc")
out = os.path.join(root, "tests", "data", "lauetools", "dialects")
os.makedirs(out, exist_ok=True)
work = tempfile.mkdtemp()
quiet = lambda: contextlib.redirect_stdout(io.StringIO())

# Peak search with the folder's settings, written by both .dat writers.
kw = json.load(open(os.path.join(gb, "peaksearch.json")))
kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in kw.items()}
with quiet():
    res = RMCCD.PeakSearch(os.path.join(gb, "Ge_blanc_0000.mccd"), CCDLabel="MARCCD165", return_histo=0, **kw)
tab = np.asarray(res[0])
os.chdir(work)
with quiet():
    IOLT.writefile_Peaklist("lt_writefile_peaklist", tab, 1, initialfilename="Ge_blanc_0000.mccd",
                            comments="LaueTools PeakSearch %s" % kw, dirname=work)
    RMCCD.writepeaklist(tab, "lt_writepeaklist", outputfolder=work, comments="written by readmccd.writepeaklist",
                        initialfilename="Ge_blanc_0000.mccd")

# .cor: with the whole detector dictionary, with the calibration only, with the .dat's spot properties.
det = IOLT.readCalib_det_file(os.path.join(gb, "calibGe111.det"))
calib = det["CCDCalibParameters"]
for name, kwargs in [("lt_cor_ccddict", dict(CCDCalibdict=dict(det, kf_direction="Z>0"))),
                     ("lt_cor_calibonly", dict(pixelsize=det["xpixelsize"])),
                     ("lt_cor_props", dict(CCDCalibdict=dict(det, kf_direction="Z>0"), addspotproperties=True))]:
    shutil.copy("lt_writefile_peaklist.dat", name + ".dat")
    with quiet():
        LTGeo.convert2corfile(name + ".dat", calib, dirname_in=work, dirname_out=work, **kwargs)
    os.remove(name + ".dat")

# Indexing: .fit files and the list of unindexed spots (the notebook's parameters, as ../shared/tools/lauetools/index.py).
params = {"AngleTolLUT": 0.5, "nlutmax": 3, "central spots indices": [0, 1, 2, 3, 4], "MAXINDEXPROBED": 10,
          "MATCHINGRATE_ANGLE_TOL": 0.2, "list matching tol angles": [0.5, 0.2, 0.1],
          "MATCHINGRATE_THRESHOLD_IAL": 100, "UseIntensityWeights": False, "nbSpotsToIndex": 10000,
          "MinimumNumberMatches": 3, "MinimumMatchingRate": 3}
shutil.copy("lt_cor_ccddict.cor", "lt_index.cor")
ds = ISS.spotsset()
ds.pixelsize, ds.dim, ds.detectordiameter = det["xpixelsize"], det["framedim"], det["detectordiameter"]
ds.kf_direction, ds.key_material, ds.emin, ds.emax = "Z>0", "Ge", 5, 22
with quiet():
    ds.IndexSpotsSet("lt_index.cor", "Ge", 5, 22, params, None, use_file=1, IMM=False, LUT=None, n_LUT=3,
                     angletol_list=params["list matching tol angles"], nbGrainstoFind=1, MatchingRate_List=[10] * 5,
                     verbose=0, previousResults=None, corfilename="lt_index.cor", dirnameout_fitfile=work)
os.remove("lt_index.cor")

# .psp of the same settings.
with quiet():
    RMCCD.savePeakSearchConfigFile({"local_maxima_search_method": 0, "IntensityThreshold": 50, "PixelNearRadius": 10,
                                    "boxsize": 15, "xtol": 0.001, "FitPixelDev": 6.0, "MinPeakSize": 0.4,
                                    "MaxPeakSize": 3.0, "fit_peaks_gaussian": 1, "position_definition": 1,
                                    "use_skimage": "False", "npixels_bandgap": 0},
                                   os.path.join(work, "lt_saved.psp"))

for f in sorted(glob.glob(os.path.join(work, "*"))):
    if os.path.splitext(f)[1] in (".dat", ".cor", ".fit", ".psp"):
        shutil.copy(f, out)
        print(os.path.basename(f), os.path.getsize(f))
shutil.rmtree(work)
