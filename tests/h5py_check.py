"""An independent reader (h5py) on a lauekit scan file: layout, types and values against the scan's JSON.

Usage: python tests/h5py_check.py SCAN.h5 SCAN.json
"""
import json
import sys

import h5py
import numpy as np


def text(v):
    """A string attribute or element as h5py gives it (bytes for fixed-length strings)."""
    return v.decode() if isinstance(v, bytes) else str(v)


def main(h5_path, json_path):
    ref = json.load(open(json_path))
    checks = 0
    with h5py.File(h5_path, "r") as f:
        assert text(f.attrs["format"]) == "lauekit-scan", f.attrs["format"]
        nx, ny = int(f.attrs["nx"]), int(f.attrs["ny"])
        assert [nx, ny] == ref["grid"], (nx, ny, ref["grid"])
        request = json.loads(text(f.attrs["request"]))
        assert request == ref["request"], "request differs"
        pts = f["points"]
        n = len(ref["points"])
        for name in ["index", "ix", "iy", "image", "status", "error", "n_peaks", "n_grains"]:
            assert pts[name].shape == (n,), (name, pts[name].shape)
        names = [text(s) for s in pts.attrs["status_names"]]
        if ref.get("step_um"):
            assert list(f.attrs["step_um"]) == ref["step_um"], (f.attrs["step_um"], ref["step_um"])
        g = f["grains"]
        assert g["ub"].shape[1:] == (3, 3) and g["strain_sample"].shape[1:] == (6,)
        for k, p in enumerate(ref["points"]):
            assert int(pts["index"][k]) == p["index"] and int(pts["ix"][k]) == p["ix"] and int(pts["iy"][k]) == p["iy"]
            assert text(pts["image"][k]) == p["image"]
            assert names[int(pts["status"][k])] == p["status"], (names, p["status"])
            assert (text(pts["error"][k]) or None) == p["error"]
            assert int(pts["n_peaks"][k]) == p["n_peaks"]
            rows = np.nonzero(g["point"][:] == p["index"])[0]
            assert len(rows) == len(p["grains"]) == int(pts["n_grains"][k])
            for r, gr in zip(rows, p["grains"]):
                assert text(g["material"][r]) == gr["material"]
                assert np.allclose(g["ub"][r], np.array(gr["ub"]), rtol=0, atol=1e-15)
                assert np.allclose(g["euler"][r], gr["euler"], rtol=0, atol=1e-12)
                assert np.allclose(g["strain_sample"][r], gr["strain_sample"], rtol=0, atol=1e-18)
                assert abs(g["matching_rate"][r] - gr["matching_rate"]) < 1e-12
                checks += 1
    print(f"h5py: {h5_path}: {n} points, {checks} grains equal to the JSON")
    print("h5py check: 1 passed, 0 failed")


if __name__ == "__main__":
    main(*sys.argv[1:])
