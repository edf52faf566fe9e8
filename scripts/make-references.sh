#!/usr/bin/env bash
# Regenerates tests/data/lauetools/sim_*.tsv with LaueTools 3.2.19 (../shared/tools/lauetools/simulate.py).
# Usage: scripts/make-references.sh [LAUETOOLS_VENV]   (default /opt/lauetools-venv; built if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
shared="$here/../shared"
venv=${1:-/opt/lauetools-venv}
bash "$shared/tools/lauetools/setup-venv.sh" "$venv" >/dev/null
py="$venv/bin/python"
out="$here/tests/data/lauetools"
mkdir -p "$out"
ub() { "$py" -c "import sys,contextlib,io
with contextlib.redirect_stdout(io.StringIO()):
    import LaueTools.generaltools as GT
m=GT.fromEULERangles_toMatrix([float(v) for v in sys.argv[1:4]])
print(','.join('%.12f'%v for v in m.ravel()))" "$@"; }
scmos="79.612,977.81,932.17,0.477,0.447"   # ../shared/data/real/GaN_Si/calib.det
tilted="70.2,980.5,1060.3,2.5,-1.3"
run() { # name material calib pixel frame euler emin emax
  local u; u=$(ub $6)
  "$py" "$shared/tools/lauetools/simulate.py" --material "$2" --calib "$3" --pixel-size "$4" --frame "$5" \
    --ub="$u" --emin "$7" --emax "$8" > "$out/sim_$1.tsv"
  echo "sim_$1.tsv: $(grep -vc '^[#h]' "$out/sim_$1.tsv") spots"
}
run W_sCMOS W "$scmos" 0.0734 2018x2016 "10 20 30" 5 22
run GaN_sCMOS GaN "$scmos" 0.0734 2018x2016 "35 50 -20" 5 23
run Si_sCMOS Si "$scmos" 0.0734 2018x2016 "82.5 44.1 175.3" 5 23
run UO2_sCMOS UO2 "$scmos" 0.0734 2018x2016 "-60 125 15" 5 22
run ZrO2_tilted ZrO2 "$tilted" 0.079142 2048x2048 "15 40 70" 5 22
run Al2O3_tilted Al2O3 "$tilted" 0.079142 2048x2048 "100 30 -45" 5 22
run Ti_tilted Ti "$tilted" 0.079142 2048x2048 "5 60 10" 5 22
