#!/usr/bin/env bash
# Writes the native clustering of the page's example scan beside this script, for tests/e2e/cluster.e2e.mjs:
#   example.json         the JSON of `lauekit cluster` (defaults: pixel features, log scaling, PCA 32 fitted on at most
#                        2000 points, K-means++ with 4 restarts, seed 0, K scored over 2..20, K = the suggested one),
#                        with the delegates indexed (--index-delegates, look-up table, Cu)
#   example-images.sha256  the SHA-256 of every image of the scan, which the page's example must reproduce byte for byte
# The example scan is www/js/scan.js's EXAMPLE_SPEC {nx: 12, ny: 10, seed: 1, grains: 4}, i.e. the same frames as
#
#   lauekit simulate-scan -o DIR --grid 12x10 --seed 1 --grains 4
#   lauekit cluster DIR --grid 12x10 --calib DIR/calib.det --material Cu --index-delegates -o example.json
#
# Usage: bash tests/data/golden/cluster/make-example.sh [path/to/lauekit]
# (default: the debug CLI of `cargo build --bin lauekit` in $CARGO_TARGET_DIR or ~/.cache/lauekit/target).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lauekit=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}/debug/lauekit}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$lauekit" simulate-scan -o "$tmp/images" --grid 12x10 --seed 1 --grains 4
"$lauekit" cluster "$tmp/images" --grid 12x10 --calib "$tmp/images/calib.det" --material Cu --index-delegates --force \
  --quiet -o "$here/example.json"
(cd "$tmp/images" && sha256sum scan_*.tif) > "$here/example-images.sha256"
echo "wrote $here/example.json and $here/example-images.sha256"
