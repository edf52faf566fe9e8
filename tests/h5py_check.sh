#!/usr/bin/env bash
# The scan's HDF5 read by an independent reader: h5py (in a venv made here once) checks a small scan's
# file against the JSON the same run wrote. Usage: tests/h5py_check.sh PATH/TO/lauekit
set -euo pipefail
LAUEKIT=$(readlink -f "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
GB=$(readlink -f "$ROOT/../shared/data/real/Ge_blanc")
VENV=${LAUEKIT_VENV:-$HOME/.cache/lauekit/venv-h5py}
if ! "$VENV/bin/python" -c 'import h5py, numpy' 2>/dev/null; then
  echo "h5py check: making $VENV (h5py, numpy from PyPI)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q h5py numpy
fi
WORK=$(mktemp -d /tmp/lauekit-h5py.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir "$WORK/images"
for i in 0 1 2 3; do ln -s "$GB/Ge_blanc_0000.mccd" "$WORK/images/Ge_$(printf %04d "$i").mccd"; done
rm "$WORK/images/Ge_0002.mccd"; head -c 5000 "$GB/Ge_blanc_0000.mccd" > "$WORK/images/Ge_0002.mccd"
"$LAUEKIT" scan "$WORK/images" --grid 2x2 --step-um 0.5,1 --calib "$GB/calibGe111.det" \
  --params "$GB/peaksearch.json" --material Ge -o "$WORK/scan.h5" --json "$WORK/scan.json" --quiet || [ $? -eq 3 ]
"$VENV/bin/python" "$ROOT/tests/h5py_check.py" "$WORK/scan.h5" "$WORK/scan.json"
