#!/bin/sh
# Seeds fuzz/corpus/read_image with small valid images of every format (the unit-test files, a
# PNG and a MarCCD made here). Run from the repository root: sh fuzz/seed.sh
set -e
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
ls -l "$dir"
