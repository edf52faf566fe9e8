#!/usr/bin/env bash
# A scan's files read by independent readers (in a venv made here once, from PyPI): h5py checks the HDF5
# file and orix the .ctf against the JSON the same run wrote. Usage: tests/interop.sh PATH/TO/lauekit
set -euo pipefail
LAUEKIT=$(readlink -f "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GB=$(readlink -f "$ROOT/../shared/data/real/Ge_blanc")
VENV=${LAUEKIT_VENV:-$HOME/.cache/lauekit/venv-interop}
if ! "$VENV/bin/python" -c 'import h5py, numpy, orix' 2>/dev/null; then
  echo "interop check: making $VENV (h5py, numpy, orix from PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q h5py numpy orix
fi
WORK=$(mktemp -d /tmp/lauekit-h5py.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/images"
for i in 0 1 2 3; do ln -s "$GB/Ge_blanc_0000.mccd" "$WORK/images/Ge_$(printf %04d "$i").mccd"; done
rm "$WORK/images/Ge_0002.mccd"; head -c 5000 "$GB/Ge_blanc_0000.mccd" > "$WORK/images/Ge_0002.mccd"
"$LAUEKIT" scan "$WORK/images" --grid 2x2 --step-um 0.5,1 --calib "$GB/calibGe111.det" \
  --params "$GB/peaksearch.json" --material Ge -o "$WORK/scan.h5" --json "$WORK/scan.json" --quiet || [ $? -eq 3 ]
"$VENV/bin/python" "$ROOT/tests/h5py_check.py" "$WORK/scan.h5" "$WORK/scan.json"
# A synthetic two-phase scan for the .ctf (several phases, unindexed points, a µm step).
"$LAUEKIT" simulate-scan -o "$WORK/syn" --grid 12x8 --step-um 0.5,0.25 --seed 2 --second-phase Si:0.25 >/dev/null
"$LAUEKIT" scan "$WORK/syn" --grid 12x8 --step-um 0.5,0.25 --calib "$WORK/syn/calib.det" --material Cu,Si \
  -o "$WORK/syn.h5" --json "$WORK/syn.json" --ctf "$WORK/syn.ctf" --quiet
"$VENV/bin/python" "$ROOT/tests/ctf_check.py" "$WORK/syn.ctf" "$WORK/syn.json"
