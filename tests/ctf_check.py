"""orix (an independent EBSD/crystal-map reader) on a lauekit `.ctf`: the map, the phases and every
orientation against the grains of the scan's JSON.

lauekit writes Bunge Euler angles of g = (T^T U)^T: U the crystal orientation (nearest rotation of UB, lab
frame), T the 40 deg tilt of LaueTools' sample frame about lab y. orix's rotation of each point must be that g
(to the 4 decimals of the file's angles).

Usage: python tests/ctf_check.py SCAN.ctf SCAN.json
"""
import json
import sys

import numpy as np
from orix import io


def main(ctf_path, json_path):
    ref = json.load(open(json_path))
    nx, ny = ref["grid"]
    xm = io.load(ctf_path)
    assert xm.shape == (ny, nx), (xm.shape, (ny, nx))
    step = ref.get("step_um") or [1.0, 1.0]
    assert abs(xm.dx - step[0]) < 1e-9 and abs(xm.dy - step[1]) < 1e-9, (xm.dx, xm.dy, step)
    points = {(p["ix"], p["iy"]): p for p in ref["points"]}
    t = np.radians(-40.0)
    tilt = np.array([[np.cos(t), 0, np.sin(t)], [0, 1, 0], [-np.sin(t), 0, np.cos(t)]])
    matrices = xm.rotations.to_matrix()
    names = {pid: xm.phases[pid].name for pid in xm.phases.ids}
    worst, n = 0.0, 0
    for k in range(xm.size):
        ix, iy = int(round(xm.x[k] / step[0])), int(round(xm.y[k] / step[1]))
        p = points[(ix, iy)]
        phase = names[int(xm.phase_id[k])]
        if not p["grains"]:
            assert phase == "not_indexed", (ix, iy, phase)
            continue
        g = p["grains"][0]
        assert phase == g["material"], (ix, iy, phase, g["material"])
        u, _, vt = np.linalg.svd(np.array(g["ub"]))
        want = (tilt.T @ (u @ vt)).T
        worst = max(worst, float(np.abs(matrices[k] - want).max()))
        n += 1
    assert worst < 1e-5, worst
    print(f"orix: {ctf_path}: {ny}x{nx} map, {n} orientations equal to the scan's within {worst:.1e}")
    print("ctf check: 1 passed, 0 failed")


if __name__ == "__main__":
    main(*sys.argv[1:])
