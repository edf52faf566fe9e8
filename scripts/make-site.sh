#!/usr/bin/env bash
# Assembles the static site (GitHub Pages) in site/ from an optimised wasm build: `make site` calls this.
#
#   site/index.html        the page (www/index.html with <base href="www/"> and the site marker)
#   site/sw.js             service worker (offline), stamped with this build's version
#   site/precache.json     the app shell it caches at install
#   site/build.json        version and the wasm package's raw size (the loading indicator's total)
#   site/www/…             scripts, styles, models, examples
#   site/pkg/…             the CPU package (wasm-bindgen output without name and producers sections)
#   site/pkg/gpu/…         the WebGPU package, loaded on demand (not part of the first load)
#
# Usage: scripts/make-site.sh CPU_WASM GPU_WASM [OUT_DIR] (the two builds of `make pkg`, see the Makefile).
# WASM_OPT_FLAGS (default empty) runs binaryen's wasm-opt (node_modules/.bin, pinned in package.json) on both,
# e.g. WASM_OPT_FLAGS=-Oz (measured: raw −35 %, gzip +0.4 %, 10 minutes: not worth it by default; BENCHMARKS.md).
set -euo pipefail
wasm=${1:?usage: make-site.sh CPU_WASM GPU_WASM [OUT_DIR]}
gpu_wasm=${2:?usage: make-site.sh CPU_WASM GPU_WASM [OUT_DIR]}
out=${3:-site}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

rm -rf "$out.tmp"
mkdir -p "$out.tmp/pkg/gpu" "$out.tmp/www"
for pair in "$wasm:$out.tmp/pkg" "$gpu_wasm:$out.tmp/pkg/gpu"; do
  src=${pair%%:*}
  dst=${pair#*:}
  wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$dst" --out-name lauekit "$src"
  if [ -n "${WASM_OPT_FLAGS:-}" ]; then
    node_modules/.bin/wasm-opt $WASM_OPT_FLAGS --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int \
      --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
      "$dst/lauekit_bg.wasm" -o "$dst/lauekit_bg.opt.wasm"
    mv "$dst/lauekit_bg.opt.wasm" "$dst/lauekit_bg.wasm"
  fi
done

# The page and its assets (the service worker goes to the root, where its scope is the whole site).
cp -r www/. "$out.tmp/www/"
rm "$out.tmp/www/sw.js"
sed -e 's#<head>#<head>\n  <base href="www/">\n  <meta name="lauekit-site" content="1">#' www/index.html > "$out.tmp/index.html"
grep -q 'name="lauekit-site"' "$out.tmp/index.html" || { echo "make-site: could not mark index.html" >&2; exit 1; }

# The version: a hash of every file of the site (so any change installs a new service worker).
version=$(cd "$out.tmp" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
sed "s/__LAUEKIT_VERSION__/$version/" www/sw.js > "$out.tmp/sw.js"
wasm_bytes=$(stat -c %s "$out.tmp/pkg/lauekit_bg.wasm")
profile=$(case "$(basename "$wasm")" in release*) echo release;; *) echo dev;; esac)
printf '{"version":"%s","wasm_bytes":%s,"profile":"%s"}\n' "$version" "$wasm_bytes" "$profile" > "$out.tmp/build.json"

# The app shell: everything but models and examples (cached when first used) and the .d.ts files.
(cd "$out.tmp" && find . -type f \( -name '*.html' -o -name '*.js' -o -name '*.css' -o -name '*.wasm' -o -name build.json \) \
  ! -name sw.js ! -path './www/models/*' ! -path './www/examples/*' ! -path './pkg/gpu/*' | sed 's#^\./##' | sort) \
  | python3 -c 'import json,sys; f=[l.strip() for l in sys.stdin if l.strip()]; print(json.dumps({"files": ["./"] + f}, indent=1))' \
  > "$out.tmp/precache.json"

rm -rf "$out"
mv "$out.tmp" "$out"
echo "make-site: $out/ version $version; first-load wasm $(numfmt --to=iec "$wasm_bytes")B raw, $(gzip -9 -c "$out/pkg/lauekit_bg.wasm" | wc -c | numfmt --to=iec)B gzip -9; WebGPU package (on demand) $(gzip -9 -c "$out/pkg/gpu/lauekit_bg.wasm" | wc -c | numfmt --to=iec)B gzip -9"
