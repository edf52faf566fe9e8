#!/usr/bin/env bash
# LaueTools 3.2.19 reads the files lauekit writes (.dat, .cor, .fit with several grains, .det), checked with its
# own IOLaueTools readers in the venv of ../shared/tools/lauetools (built on first use, minutes; not in `make
# test` for that reason — `make test-lauetools`).  Usage: tests/lauetools/readback.sh LAUEKIT_BIN [VENV]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bin=$1
venv=${2:-/opt/lauetools-venv}
bash "$here/../shared/tools/lauetools/setup-venv.sh" "$venv" >/dev/null
work=$(mktemp -d /tmp/lauekit-readback.XXXXXX)
trap 'rm -rf "$work"' EXIT
gb="$here/../shared/data/real/Ge_blanc"
"$bin" peaks "$gb/Ge_blanc_0000.mccd" --params "$gb/peaksearch.json" --calib "$gb/calibGe111.det" \
  -o "$work/ge.dat" --cor "$work/ge.cor" >/dev/null
"$bin" peaks "$gb/Ge_blanc_0000.mccd" --params "$gb/peaksearch.json" --format json > "$work/peaks.json"
cusi="$here/../shared/data/lauetools_examples/CuSi/corfiles/SiCustrain3.cor"
"$bin" index "$cusi" --material Cu,Si --grains 2 --emax 25 -o "$work/cusi.fit" >/dev/null
"$bin" index "$cusi" --material Cu,Si --grains 2 --emax 25 --format json > "$work/cusi.json"
"$bin" calibrate "$gb/Ge_blanc_0000_LT_5.dat" --material Ge --calib "$gb/calibGe111.det" -o "$work/ge.det" \
  --format json > "$work/calib.json"
"$venv/bin/python" "$here/tests/lauetools/readback.py" "$work" "$gb/calibGe111.det"
