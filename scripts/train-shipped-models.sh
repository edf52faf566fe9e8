#!/usr/bin/env bash
# Trains the LaueNN models the page ships in www/models/ (f16 weights) and writes www/models/index.json.
# Each model is trained in the detector geometry of the shared data it is meant for; seeds are fixed, so a rerun on
# the same build gives the same files. Release build; about 20 minutes on 2 cores.
#
#   bash scripts/train-shipped-models.sh [NAME ...]      (default: all; names: Cu Ge W Al2O3 Si GaN_Si;
#                                                       an unknown name, e.g. "list", only rewrites index.json)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=target}"
SHARED=${SHARED:-../shared/data/real}
MARCCD=$SHARED/Ge_blanc/calibGe111.det   # Ge_blanc, MarCCD 165
SCMOS=$SHARED/GaN_Si/calib.det           # nw1, sCMOS
OUT=www/models
cargo build --release --quiet
BIN=$CARGO_TARGET_DIR/release/lauekit
mkdir -p "$OUT"

train() { # NAME CALIB ARGS...
  local name=$1 calib=$2
  shift 2
  echo "== $name"
  "$BIN" train-index --calib "$calib" --seed 0 --half "$@" -o "$OUT/$name" 2>&1 | grep -E "^(data|trained)"
}

NAMES=("$@")
want() { [ ${#NAMES[@]} -eq 0 ] || [[ " ${NAMES[*]} " == *" $1 "* ]]; }
# Cubic: LaueNN's cubic setting (500 orientations, 1–5 grains, hkl ≤ 5, 5–22 keV).
if want Cu; then train Cu "$MARCCD" --material Cu --orientations 500 --grains 5; fi
if want Ge; then train Ge "$MARCCD" --material Ge --orientations 500 --grains 5; fi
if want W; then train W "$MARCCD" --material W --orientations 500 --grains 5; fi
# Trigonal corundum: more orientations for the lower symmetry; hkl ≤ 6 (c = 13 Å: with ≤ 4 only 8 % of the spots
# have a class and 3 grains in 10 were missed, with ≤ 6 it is 23 %).
if want Al2O3; then train Al2O3 "$MARCCD" --material Al2O3 --orientations 1000 --grains 3 --max-index 6; fi
# The nw1 image's materials in its sCMOS geometry and band (config_GaN_Si.lauenn: 5–23 keV, GaN hkl ≤ 5, Si ≤ 4).
if want Si; then train Si "$SCMOS" --material Si --orientations 500 --grains 5 --emax 23; fi
if want GaN_Si; then
  train GaN_Si "$SCMOS" --material GaN --material Si --max-index 5,4 --orientations 1000 --grains 3 --emax 23
fi

# The list the page reads.
python3 - "$OUT" <<'PY'
import json, os, sys
out = sys.argv[1]
calib = {"Cu": "calibGe111.det (Ge_blanc, MarCCD 165)", "Ge": "calibGe111.det (Ge_blanc, MarCCD 165)",
         "W": "calibGe111.det (Ge_blanc, MarCCD 165)", "Al2O3": "calibGe111.det (Ge_blanc, MarCCD 165)",
         "Si": "calib.det (nw1 GaN/Si, sCMOS)", "GaN_Si": "calib.det (nw1 GaN/Si, sCMOS)"}
models = []
for name in ["Cu", "Ge", "W", "Al2O3", "Si", "GaN_Si"]:
    w, j = os.path.join(out, name + ".bpk"), os.path.join(out, name + ".json")
    if not (os.path.exists(w) and os.path.exists(j)):
        continue
    meta = json.load(open(j))
    models.append({
        "name": name,
        "materials": [m["name"] for m in meta["materials"]],
        "weights": name + ".bpk",
        "meta": name + ".json",
        "calibration": calib[name],
        "classes": meta["net"]["n_out"],
        "parameters": None,
        "emin_kev": meta["emin_kev"],
        "emax_kev": meta["emax_kev"],
        "val_accuracy": max(h["val_accuracy"] for h in meta["history"]),
        "bytes": os.path.getsize(w) + os.path.getsize(j),
    })
    n = meta["net"]
    a, b, c = n["hidden"]
    models[-1]["parameters"] = (n["n_in"] + 1) * a + (a + 1) * b + (b + 1) * c + (c + 1) * n["n_out"]
json.dump({"note": "LaueNN models trained by scripts/train-shipped-models.sh (lauekit train-index --half, seed 0)",
           "models": models}, open(os.path.join(out, "index.json"), "w"), indent=1)
for m in models:
    print(f'{m["name"]:7s} {"+".join(m["materials"]):7s} {m["classes"]:4d} classes {m["parameters"]:8d} params '
          f'{m["bytes"] / 1e6:5.2f} MB  val {100 * m["val_accuracy"]:.2f} %')
PY
