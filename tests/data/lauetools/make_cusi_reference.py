"""LaueTools 3.2.19's own indexing + refinement of its CuSi example (SiCustrain0-5.cor, 5-25 keV), one material
at a time, with the strain of each refined UB through its CrystalParameters functions (crystal frame x // a,
z // c*; sample frame tilted 40 deg). Writes cusi_lt3219.json beside this script, read by
tests/index_vs_lauetools.rs. Run in the venv of ../shared/tools/lauetools:
    /opt/lauetools-venv/bin/python tests/data/lauetools/make_cusi_reference.py
"""
import json, os, subprocess, sys
import numpy as np
import contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    from LaueTools import CrystalParameters as CP
here = os.path.dirname(os.path.abspath(__file__))
shared = os.path.join(here, "../../../../shared")
out = {}
for k in range(6):
    cor = os.path.join(shared, f"data/lauetools_examples/CuSi/corfiles/SiCustrain{k}.cor")
    for mat in ("Cu", "Si"):
        r = subprocess.run([sys.executable, os.path.join(shared, "tools/lauetools/index.py"), cor, "--material", mat,
                            "--pixel-size", "0.0734", "--frame", "2018x2016", "--repeat", "1", "--emax", "25"],
                           capture_output=True, text=True, check=True)
        g = json.loads(r.stdout)["grains"][0]
        ub = np.array(g["UB"])
        dev, dev_sample, lat = CP.evaluate_strain_fromUBmat(ub, mat)
        out[f"SiCustrain{k}/{mat}"] = dict(ub=ub.tolist(), n_indexed=g["n_indexed"],
                                           strain_crystal=dev.tolist(), strain_sample=dev_sample.tolist(),
                                           lattice_parameters=np.asarray(lat).tolist())
        print(k, mat, g["n_indexed"], np.round(dev * 1e3, 3).tolist())
with open(os.path.join(here, "cusi_lt3219.json"), "w") as f:
    json.dump(out, f, indent=1)
