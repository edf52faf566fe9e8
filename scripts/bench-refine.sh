#!/usr/bin/env bash
# Refinement speed (issue 15, acceptance 3): one grain and one calibration on Ge_blanc (LaueTools' peak list
# Ge_blanc_0000_LT_5.dat, 97 peaks, calibGe111.det, Ge, 5–22 keV), single thread, lauekit next to LaueTools
# 3.2.19's own refinement of the same spots (scripts/lauetools_refine.py: FitOrient.fit_on_demand_strain and
# FitOrient.fit_on_demand_calibration on the 95 hkl/spot pairs of LaueTools' .fit) in one run.
#   grain:       lauekit `bench refine` (index::refine::refine_ub, orientation + 5 strain components, from the
#                indexed orientation with the strain removed, turned by 0.05°; LaueTools starts from the same UB)
#   calibration: lauekit `bench calibrate`: the whole `refine::calibrate` (indexing at the start geometry, then
#                match/fit rounds at 1, 0.5, 0.25, 0.1°) and, like for like with LaueTools, one fit of the
#                8 parameters on fixed pairs; from calibGe111.det and from it + 2 mm, + 30 px, + 0.5°.
# Prints per-case medians, the ratios (LaueTools / lauekit) and whether both land on the same values.
# Usage: scripts/bench-refine.sh [LAUETOOLS_VENV]   (default /opt/lauetools-venv; built if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data="$here/../shared/data/real/Ge_blanc"
venv=${1:-/opt/lauetools-venv}
bash "$here/../shared/tools/lauetools/setup-venv.sh" "$venv" >/dev/null
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}
cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin lauekit
bin="$CARGO_TARGET_DIR/release/lauekit"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
common=(--peaks "$data/Ge_blanc_0000_LT_5.dat" --calib "$data/calibGe111.det" --material Ge --emin 5 --emax 22 --seconds 3)
RAYON_NUM_THREADS=1 "$bin" bench refine "${common[@]}" --pairs-out "$tmp/pairs.json" >"$tmp/lauekit.txt"
RAYON_NUM_THREADS=1 "$bin" bench calibrate "${common[@]}" --offset 2,30,0.5 >>"$tmp/lauekit.txt"
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 "$venv/bin/python" "$here/scripts/lauetools_refine.py" \
    "$data/Ge_blanc_0000_LT_5.fit" "$data/calibGe111.det" --lauekit-pairs "$tmp/pairs.json" --repeat 20 \
    --offset 2,30,0.5 >"$tmp/lauetools.json"
cat "$tmp/lauekit.txt"
"$venv/bin/python" - "$tmp/lauekit.txt" "$tmp/lauetools.json" <<'PY'
import json, sys
lk = {}
for line in open(sys.argv[1]):
    kv = dict(t.split("=", 1) for t in line.split() if "=" in t)
    key = "refine" if line.startswith("lauekit refine") else "calibrate_" + kv["start"]
    lk[key] = kv
lt = json.load(open(sys.argv[2]))
num = lambda s: [float(v) for v in s.split(",")]
print("lauetools", json.dumps(lt))
p = lt["same_pairs_as_lauekit"]
print(f"\npairs: lauekit {p['lauekit']}, LaueTools .fit {p['lauetools']}, same spot and hkl (up to one cubic "
      f"setting) {p['same_spot_and_hkl']}")
print("\n| case | lauekit s | LaueTools s | ratio |\n|---|---|---|---|")
r = lk["refine"]
rows = [("grain: orientation + strain (8 param.), 95 pairs", float(r["median_s"]), lt["refine"]["median_s"])]
for s, label in (("det", "from calibGe111.det"), ("offset", "from +2 mm, +30 px, +0.5°")):
    c, t = lk["calibrate_" + s], lt["calibrate"][s]["median_s"]
    rows.append((f"calibration {label}: one fit (8 param.) on fixed pairs", float(c["fit_median_s"]), t))
    rows.append((f"calibration {label}: lauekit's whole calibrate (index + match/fit rounds) vs LaueTools' one fit",
                 float(c["median_s"]), t))
for name, a, b in rows:
    print(f"| {name} | {a:.3g} | {b:.3g} | **{b / a:.0f}×** |" if b / a >= 10 else
          f"| {name} | {a:.3g} | {b:.3g} | **{b / a:.1f}×** |")
ok = True
eps_lk = num(r["devstrain_1e3_xx_yy_zz_xy_xz_yz"])
eps_lt = lt["refine"]["devstrain_1e3_xx_yy_zz_xy_xz_yz_lauekit_setting"]
d = max(abs(x - y) for x, y in zip(eps_lk, eps_lt))
ok &= d <= 0.02
print(f"\ngrain: rms px lauekit {float(r['rms_px']):.6f} / LaueTools {lt['refine']['rms_px']:.6f}; deviatoric strain "
      f"(1e-3, xx yy zz xy xz yz) lauekit {[round(v, 5) for v in eps_lk]} / LaueTools {[round(v, 5) for v in eps_lt]}; "
      f"largest difference {d:.5f}e-3 (tolerance 0.02e-3)")
tol = [0.02, 0.2, 0.2, 0.02, 0.02]
for s in ("det", "offset"):
    a, b = num(lk["calibrate_" + s]["params"]), lt["calibrate"][s]["params"]
    diff = [abs(x - y) for x, y in zip(a, b)]
    ok &= all(x <= t for x, t in zip(diff, tol))
    print(f"calibration from {s}: lauekit {[round(v, 4) for v in a]} rms {float(lk['calibrate_' + s]['rms_px']):.6f} px / "
          f"LaueTools {[round(v, 4) for v in b]} rms {lt['calibrate'][s]['rms_px']:.6f} px; differences "
          f"{[round(v, 4) for v in diff]} (tolerance 0.02 mm, 0.2 px, 0.2 px, 0.02°, 0.02°)")
print("same values within tolerance:", "yes" if ok else "NO")
PY
