#!/bin/sh
# Seeds fuzz/corpus/<target> for every target: small valid images of every format (the unit-test files, a
# PNG and a MarCCD made here) for read_image; the real LaueTools files of tests/data and ../shared/data for
# the text parsers; the settings and model JSON of the tests and the page for the JSON targets (their first
# byte picks the type: see fuzz_targets/json_settings.rs and model_json.rs).
# Run from the repository root: sh fuzz/seed.sh [SHARED_DATA]   (default ../shared/data)
set -e
shared=${1:-../shared/data}
dir=fuzz/corpus/read_image
mkdir -p "$dir"
cp tests/data/images/*.tif tests/data/images/*.h5 tests/data/images/*.edf "$dir"/
python3 - "$dir" <<'PY'
import struct, sys, zlib
out = sys.argv[1]
# 8 x 6 grey 16-bit PNG
w, h = 8, 6
raw = b"".join(b"\0" + b"".join(struct.pack(">H", r * 1000 + c) for c in range(w)) for r in range(h))
def chunk(t, d):
    return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, 0, 0, 0, 0))
png += chunk(b"tEXt", b"exposure\x000.5") + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
open(f"{out}/grey16.png", "wb").write(png)
# A MarCCD-like file: TIFF IFD at 8, frame header at 1024 ("MMX", little endian), 8 x 6 u16 at 4096.
b = bytearray(4096)
b[0:8] = b"II*\0" + struct.pack("<I", 8)
tags = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 16), (259, 3, 1, 1), (262, 3, 1, 1),
        (273, 4, 1, 4096), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, w * h * 2), (34710, 4, 1, 1024)]
ifd = struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *t) for t in tags) + struct.pack("<I", 0)
b[8:8 + len(ifd)] = ifd
hdr = 1024
b[hdr + 4:hdr + 7] = b"MMX"
for off, v in [(28, 1234), (80, w), (84, h), (88, 2), (640, 70775), (644, 1022986), (648, 1022986),
               (656, 300), (772, 79180), (776, 79180), (908, 68499)]:
    b[hdr + off:hdr + off + 4] = struct.pack("<i", v)
b += b"".join(struct.pack("<H", i * 37) for i in range(w * h))
open(f"{out}/small.mccd", "wb").write(bytes(b))
PY

python3 - "$shared" <<'PY'
import glob, json, os, sys
shared = sys.argv[1]

def put(target, name, data, limit=16384):
    """One seed; long peak lists are cut to their first lines (and the trailer of a .cor) to stay small."""
    d = f"fuzz/corpus/{target}"
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    if len(data) > limit:
        lines = data.split(b"\n")
        data = b"\n".join(lines[:30] + [l for l in lines[30:] if l.startswith(b"#")])
    open(os.path.join(d, name), "wb").write(data)

def files(pattern):
    return sorted(set(glob.glob(pattern, recursive=True)))

for ext in ["det", "cor", "dat", "fit", "psp"]:
    for f in files(f"{shared}/**/*.{ext}") + files(f"tests/data/**/*.{ext}"):
        put(ext, os.path.relpath(f, "/" if f.startswith("/") else ".").replace("/", "_").lstrip("._"),
            open(f, "rb").read())
# LaueTools' .cor dialects: lower-case header, comment lines before it, a BOM.
put("cor", "bom.cor", b"\xef\xbb\xbf2theta chi X Y I\n40.1 -10.2 100.5 200.5 1000\n# dd : 70\n")
put("cor", "lower.cor", "# unindexed\n2theta   chi   x   y   intensity\n40.1 -10.2 100.5 200.5 1000\n"
    "# Calibration parameters\n# dd : 70.1\n# xcen : 1024\n# ycen : 1024\n# xbet : 0.1\n# xgam : 0.2\n"
    "# pixelsize : 0.079142\n# xpixelsize : 0.079142\n# ypixelsize : 0.079142\n# CCDLabel : MARCCD165\n"
    "# framedim : (2048, 2048)\n# detectordiameter : 165\n# kf_direction : Z>0\n")
put("psp", "minimal.psp", "[PeakSearch]\nintensitythreshold = 500\nboxsize = 15\n")
put("psp", "latin1.psp", b"# r\xe9glages\n[PeakSearch]\nIntensityThreshold = 500\nfitpixeldev = 25\n")

def sel(k, text):
    return bytes([k]) + (text if isinstance(text, bytes) else text.encode())

# json_settings: 0 peak search, 1 pipeline request, 2 simulation, 3 calibration request, 4 calibration,
# 5 synthetic scan, 6 journal, 7 cluster record, 8 histogram settings, 9 read/index options, 10 criteria.
cal = {"distance_mm": 70.0, "xcen_px": 1024.0, "ycen_px": 1024.0, "xbet_deg": 0.0, "xgam_deg": 0.0,
       "pixel_size_mm": 0.079142, "rows": 2048, "cols": 2048}
for f in files(f"{shared}/real/**/peaksearch*.json"):
    put("json_settings", "ps_" + os.path.basename(os.path.dirname(f)) + "_" + os.path.basename(f),
        sel(0, open(f, "rb").read()))
scan = json.load(open("tests/data/golden/scan/example.json"))
request = scan["request"]
put("json_settings", "pipeline_scan.json", sel(1, json.dumps(request)))
put("json_settings", "pipeline_peaks.json", sel(1, json.dumps({"peaks": request["peaks"]})))
put("json_settings", "pipeline_nn.json", sel(1, json.dumps(
    {"index": {"method": "nn", "model": "Ge", "materials": []}, "spotnet": {"enabled": True}})))
put("json_settings", "simulation_cu.json",
    sel(2, json.dumps(json.load(open("tests/data/golden/cu_identity.json"))["request"])))
put("json_settings", "simulation_lattice.json", sel(2, json.dumps(
    {"lattice": [4.0, 5.0, 6.0, 90, 95, 90], "space_group": 14, "euler_deg": [10, 20, 30],
     "calibration": cal, "emin_kev": 5, "emax_kev": 22})))
put("json_settings", "calibration_request.json",
    sel(3, json.dumps(json.load(open("tests/data/golden/calibrate/Ge_blanc.json"))["request"])))
put("json_settings", "calibration.json", sel(4, json.dumps(cal)))
put("json_settings", "synthetic_scan.json", sel(5, json.dumps(
    {"nx": 3, "ny": 2, "grains": 2, "twin": None, "material": "Cu"})))
header = {"journal": "lauekit-scan-journal-1", "grid": {"nx": 2, "ny": 1, "step_um": None, "snake": False},
          "request": {"peaks": request["peaks"]}, "images": ["a.tif", "b.tif"],
          "points": {"start": 0, "end": 2}, "software": "lauekit 0.1.0"}
point = {"index": 0, "ix": 0, "iy": 0, "image": "a.tif", "status": "no_peaks", "error": None, "n_peaks": 0,
         "intensity_sum": 0.0, "peaks_intensity": 0.0, "grains": [], "elapsed_ms": 1.0}
put("json_settings", "journal.jsonl", sel(6, json.dumps(header) + "\n" + json.dumps(point) + "\n"))
put("json_settings", "cluster_record.json", sel(7, json.dumps(
    {"features": "pixels", "method": "kmeans", "k": 2, "labels": [0, 1, 1], "regions": [0, 1, 1],
     "n_regions": 2, "delegates": [0, 1], "centroid_rgb": [[0, 0, 0], [9, 9, 9]],
     "direct_rgb": [[0, 0, 0], [9, 9, 9], [8, 8, 8]], "delegate_grains": [], "silhouette": 0.5,
     "calinski_harabasz": 10.0, "scores": [{"k": 2, "silhouette": 0.5, "calinski_harabasz": 10.0}],
     "suggested_k": 2, "explained_variance_ratio": [0.9], "settings": {}})))
put("json_settings", "features.json", sel(8, '{"radius_deg": 120.0, "bin_deg": 0.1}'))
put("json_settings", "read_options.json", sel(9, '{"format": "tiff", "frame": 1, "dataset": "/entry/data"}'))
put("json_settings", "index_settings.json", sel(9, json.dumps(request["index"]["settings"])))
put("json_settings", "criteria.json", sel(10, '{"max_offset_px": 0.9, "min_sim": 0.5}'))

# model_json: 0 LaueNN description (with the Ge weights), 1 spot network shape, 2 autoencoder shape.
for f in ["www/models/Ge.json", "www/models/GaN_Si.json"]:
    put("model_json", "hkl_" + os.path.basename(f), sel(0, open(f, "rb").read()), limit=1 << 20)
put("model_json", "spotnet.json", sel(1, '{"stem": 4, "channels": [16, 32, 64], "dense": [112, 56, 22]}'))
put("model_json", "spotnet_paper.json", sel(1, '{"stem": 1, "channels": [32, 64, 128], "dense": [112, 56, 22]}'))
put("model_json", "autoencoder.json", sel(2, '{"channels": [8, 16, 32, 32, 64], "latent": 64, "dropout": 0.2}'))

# settings_to_run: pipeline requests as the page, `index --request` and `scan` give them.
lut = dict(request)
lut["index"] = dict(request["index"], materials=["Ge"])
lut["peaks"] = dict(request["peaks"], IntensityThreshold=300, boxsize=5)
put("settings_to_run", "lut.json", json.dumps(lut))
put("settings_to_run", "peaks_only.json", json.dumps({"peaks": lut["peaks"], "keep_spots": True}))
put("settings_to_run", "defaults.json", "{}")
put("settings_to_run", "nn_spotnet.json", json.dumps(
    {"peaks": dict(lut["peaks"], local_maxima_search_method=2), "spotnet": {"enabled": True},
     "index": {"method": "nn", "model": "Ge", "positions": "cnn", "settings": {"nbgrainstofind": 2}},
     "keep_spots": True}))
PY
for t in fuzz/corpus/*; do echo "$t: $(ls "$t" | wc -l) files, $(du -sh "$t" | cut -f1)"; done
