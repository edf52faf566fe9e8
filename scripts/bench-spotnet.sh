#!/usr/bin/env bash
# Spot characterisation per spot, one CPU core, in one run: lauekit's CNN (flex, one batch over the image's
# spots, cut-out extraction included; the shipped network and the paper's widths) and our own Gaussian fit of the same 32 x 32 cut-outs, next to
# LaueTools 3.2.19's Gaussian fit of the same spots (readmccd.readoneimage_multiROIfit, the per-ROI fit that
# PeakSearch runs through fitoneimage_manypeaks; boxsize 16 = a 32 x 32 box, xtol 1e-3, image already in
# memory on both sides). Spots: the peaks of each image's peaksearch.json.
# Usage: scripts/bench-spotnet.sh [LAUETOOLS_VENV]   (default /opt/lauetools-venv; built if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data="$here/../shared/data/real"
venv=${1:-/opt/lauetools-venv}
bash "$here/../shared/tools/lauetools/setup-venv.sh" "$venv" >/dev/null
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}
cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin lauekit
bin="$CARGO_TARGET_DIR/release/lauekit"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for spec in Ge_blanc/Ge_blanc_0000.mccd:MARCCD165 Ge_sCMOS/img_Ge_sCMOS_0000.tif:sCMOS GaN_Si/nw1_0000.tif:sCMOS; do
  img="$data/${spec%%:*}"; ccd=${spec##*:}; params="$(dirname "$img")/peaksearch.json"
  ours=$(RAYON_NUM_THREADS=1 "$bin" bench characterize --image "$img" --params "$params" --seconds 3)
  RAYON_NUM_THREADS=1 "$bin" characterize "$img" --params "$params" --format json 2>/dev/null >"$tmp/spots.json"
  theirs=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" - "$img" "$ccd" "$tmp/spots.json" <<'PY'
import contextlib, io, json, sys, time
import numpy as np
with contextlib.redirect_stdout(io.StringIO()):
    import LaueTools.readmccd as RMCCD
    import LaueTools.IOimagefile as IOimage
img, ccd, spots = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
centers = np.array([[round(p["x"]), round(p["y"])] for p in spots["peaks"]], dtype=int)
with contextlib.redirect_stdout(io.StringIO()):
    data = IOimage.readCCDimage(img, CCDLabel=ccd)
times = []
for _ in range(3):
    t = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        RMCCD.readoneimage_multiROIfit(img, centers, 16, CCDLabel=ccd, baseline="auto", startangles=0.0,
                                       start_sigma1=1.0, start_sigma2=1.0, position_start="max",
                                       fitfunc="gaussian", xtol=0.001, use_data_corrected=data)
    times.append(time.perf_counter() - t)
med = sorted(times)[1]
print(f"lauetools fit spots={len(centers)} median_s={med:.4f} ms_per_spot={med / len(centers) * 1e3:.4f}")
PY
)
  echo "$ours"; echo "$theirs"
  cnn=$(sed 's/.* cnn_ms_per_spot=\([0-9.]*\).*/\1/' <<<"$ours")
  fit=$(sed 's/.*fit_xtol1e-3_ms_per_spot=\([0-9.]*\).*/\1/' <<<"$ours")
  lt=$(sed 's/.*ms_per_spot=\([0-9.]*\).*/\1/' <<<"$theirs")
  paper=$(sed 's/.*paper_cnn_ms_per_spot=\([0-9.]*\).*/\1/' <<<"$ours")
  awk -v c="$cnn" -v p="$paper" -v f="$fit" -v l="$lt" -v m="$(basename "$img")" \
    'BEGIN { printf "%s: shipped CNN %.1fx faster per spot than LaueTools fit (paper-width CNN %.2fx); our Rust fit %.1fx faster than the shipped CNN\n", m, l / c, l / p, c / f }'
done
