#!/usr/bin/env bash
# Writes example.json beside this script: the native results of the page's example scan (www/js/scan.js,
# EXAMPLE_SPEC), which tests/e2e/scan.e2e.mjs compares the page's results with. Per point: image, status, peaks,
# grains, and the main grain's material and UB rounded to 1e-9; plus the status counts and the request.
#
#   bash tests/data/golden/scan/make-example.sh [path/to/lauekit]
#
# (default: the debug CLI of `cargo build --bin lauekit` in $CARGO_TARGET_DIR or ~/.cache/lauekit/target).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
lauekit=${1:-${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}/debug/lauekit}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$lauekit" simulate-scan -o "$tmp/images" --grid 12x10 --seed 1 --grains 4
"$lauekit" scan "$tmp/images" --grid 12x10 --calib "$tmp/images/calib.det" --material Cu \
  -o "$tmp/scan.h5" --json "$tmp/scan.json" --quiet || [ $? -eq 3 ] # 3: some points failed (kept in the file)

node - "$tmp/scan.json" "$here/example.json" <<'JS'
const fs = require('node:fs');
const [src, out] = process.argv.slice(2);
const scan = JSON.parse(fs.readFileSync(src, 'utf8'));
const r9 = (v) => Math.round(v * 1e9) / 1e9;
const counts = { indexed: 0, not_indexed: 0, no_peaks: 0, searched: 0, failed: 0 };
const points = scan.points.map((p) => {
  counts[p.status] += 1;
  const g = p.grains[0];
  return {
    index: p.index, ix: p.ix, iy: p.iy, image: p.image.replace(/^.*[\\/]/, ''), status: p.status,
    n_peaks: p.n_peaks, n_grains: p.grains.length, material: g ? g.material : null,
    ub: g ? g.ub.map((row) => row.map(r9)) : null,
  };
});
const head = {
  about: 'Native results of the page\'s example scan; remake with tests/data/golden/scan/make-example.sh',
  commands: [
    'lauekit simulate-scan -o DIR --grid 12x10 --seed 1 --grains 4',
    'lauekit scan DIR --grid 12x10 --calib DIR/calib.det --material Cu -o X.h5 --json X.json',
  ],
  software: scan.software,
  grid: scan.grid,
  counts,
  request: scan.request,
};
// One line per field and per point: compact, and a diff names the point that changed.
const text = `{\n${Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`).join('')}`
  + `  "points": [\n${points.map((p) => `    ${JSON.stringify(p)}`).join(',\n')}\n  ]\n}\n`;
JSON.parse(text);
fs.writeFileSync(out, text);
console.log(`${out}: ${points.length} points, ${JSON.stringify(counts)}`);
JS
