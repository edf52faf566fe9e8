#!/usr/bin/env python3
"""Writes the small detector images that src/io/image's unit tests read (tests/data/images/).

They are made with the reference writers (libtiff-compatible tifffile + imagecodecs, libhdf5
through h5py and hdf5plugin, fabio for EDF), so the Rust readers are checked against files they
did not write themselves. Every image is 37 rows x 53 columns (odd sizes: partial strips and
tiles) filled by the formulas below, which the Rust tests repeat.

Regenerate (from the repository root):
    python3 -m venv /tmp/lauekit-py
    /tmp/lauekit-py/bin/pip install numpy tifffile imagecodecs h5py hdf5plugin fabio
    /tmp/lauekit-py/bin/python scripts/make_test_images.py
"""

import os
import sys

import numpy as np
import tifffile

ROWS, COLS = 37, 53
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "images")


def pattern(kind, frame=0):
    """The pixel value formulas (row r, column c) shared with the Rust tests."""
    r, c = np.meshgrid(np.arange(ROWS, dtype=np.int64), np.arange(COLS, dtype=np.int64), indexing="ij")
    if kind == "u8":
        return ((r * 7 + c * 3 + frame) % 256).astype(np.uint8)
    if kind == "u16":
        return ((r * 517 + c * 33 + frame * 1000) % 65536).astype(np.uint16)
    if kind == "u32":
        return (r * 100000 + c * 3 + 70000 + frame * 1000).astype(np.uint32)
    if kind == "i32":
        return (r * 1000 - c * 777 + frame).astype(np.int32)
    if kind == "f32":
        return (r * 0.5 - c * 0.25 + 0.125 + frame).astype(np.float32)
    raise ValueError(kind)


def tiffs():
    # (file name, kind, byte order, tiled, compression, predictor)
    variants = [
        ("u16_be_strips_lzw.tif", "u16", ">", False, "lzw", True),
        ("u16_le_tiles_deflate.tif", "u16", "<", True, "zlib", False),
        ("u16_be_tiles_packbits.tif", "u16", ">", True, "packbits", False),
        ("u8_le_strips_packbits.tif", "u8", "<", False, "packbits", False),
        ("u32_be_strips_deflate.tif", "u32", ">", False, "zlib", False),
        ("i32_le_tiles_lzw.tif", "i32", "<", True, "lzw", False),
        ("f32_be_strips_deflate.tif", "f32", ">", False, "zlib", False),
        ("f32_le_tiles_none.tif", "f32", "<", True, None, False),
    ]
    for name, kind, order, tiled, compression, predictor in variants:
        data = pattern(kind)
        kwargs = dict(byteorder=order, photometric="minisblack", compression=compression)
        if tiled:
            kwargs["tile"] = (16, 16)
        else:
            kwargs["rowsperstrip"] = 8
        if predictor:
            kwargs["predictor"] = True
        if name.startswith("f32_le"):
            data = data.copy()
            data[1, 2] = np.nan
            data[3, 4] = np.inf
            data[5, 6] = -np.inf
        tifffile.imwrite(os.path.join(OUT, name), data, **kwargs)
    # Three pages: page k holds pattern("u16", k).
    with tifffile.TiffWriter(os.path.join(OUT, "u16_3pages.tif")) as tw:
        for k in range(3):
            tw.write(pattern("u16", k), photometric="minisblack", rowsperstrip=16)
    # A compression the reader does not decode (Zstandard, 50000).
    tifffile.imwrite(os.path.join(OUT, "u16_zstd.tif"), pattern("u16"), compression="zstd", photometric="minisblack")
    # A Photonic Science-like ImageDescription with motor positions.
    tifffile.imwrite(
        os.path.join(OUT, "u16_description.tif"),
        pattern("u16"),
        photometric="minisblack",
        description="0 (Xech=1.0747 Yech=1.7521 Zech=-0.8263 mon=12276 exposure=1.000)",
        software="PSLViewer4.7.6",
        metadata=None,
    )


def hdf5():
    import h5py
    import hdf5plugin

    # Eiger layout: a 3-frame uint32 stack, chunked one frame per chunk, shuffle + deflate.
    stack = np.stack([pattern("u32", k) for k in range(3)])
    stack[:, 10, :] = 2**32 - 1  # a gap row (dead-pixel sentinel)
    stack[1, 20, 30] = 2**32 - 1
    with h5py.File(os.path.join(OUT, "eiger_stack.h5"), "w") as f:
        f.create_dataset("entry/data/data", data=stack, chunks=(1, ROWS, COLS), compression="gzip", shuffle=True)
        det = f.create_group("entry/instrument/detector")
        det["x_pixel_size"] = np.float32(75e-6)
        det["y_pixel_size"] = np.float32(75e-6)
        det["count_time"] = 0.5
        det["detector_distance"] = 0.07
        det["beam_center_x"] = 26.5
        det["beam_center_y"] = 18.25
        mask = np.zeros((ROWS, COLS), dtype=np.uint32)
        mask[0, 0] = 1
        mask[36, 52] = 4
        det.create_dataset("detectorSpecific/pixel_mask", data=mask, compression="gzip")
        f["entry/instrument/beam/incident_wavelength"] = 0.7

    # LIMA layout: a 2-frame uint16 stack, contiguous.
    with h5py.File(os.path.join(OUT, "lima_stack.h5"), "w") as f:
        f.create_dataset("entry_0000/measurement/data", data=np.stack([pattern("u16", k) for k in range(2)]))
        f["entry_0000/instrument/camera/acquisition/exposure_time"] = 0.25

    # A 2-D float image at a path of the caller's choosing, with non-finite values.
    img = pattern("f32")
    img[2, 3] = np.nan
    img[4, 5] = np.inf
    with h5py.File(os.path.join(OUT, "custom_f32.h5"), "w") as f:
        f.create_dataset("results/image", data=img, chunks=(16, 16), compression="gzip")

    # Filters the reader cannot decode.
    with h5py.File(os.path.join(OUT, "bitshuffle_lz4.h5"), "w") as f:
        f.create_dataset(
            "entry/data/data",
            data=pattern("u32")[None],
            chunks=(1, ROWS, COLS),
            **hdf5plugin.Bitshuffle(cname="lz4"),
        )
    with h5py.File(os.path.join(OUT, "lz4.h5"), "w") as f:
        f.create_dataset("entry/data/data", data=pattern("u32")[None], chunks=(1, ROWS, COLS), **hdf5plugin.LZ4())


def edfs():
    import fabio.edfimage

    img = fabio.edfimage.EdfImage(data=pattern("u16"), header={"count_time": "0.5", "PSize_1": "7.5e-05"})
    img.write(os.path.join(OUT, "u16_fabio.edf"))
    img = fabio.edfimage.EdfImage(data=pattern("f32"))
    img.write(os.path.join(OUT, "f32_fabio.edf"))
    # fabio writes the machine's byte order only: a big-endian signed 32-bit image by hand,
    # with a 1024-byte header.
    keys = "{\nHeaderID = EH:000001:000000:000000 ;\nImage = 1 ;\nByteOrder = HighByteFirst ;\n"
    keys += f"DataType = SignedInteger ;\nDim_1 = {COLS} ;\nDim_2 = {ROWS} ;\nSize = {ROWS * COLS * 4} ;\n"
    keys += "acq_expo_time = 2.0 ;\n"
    header = keys + " " * (1024 - len(keys) - 2) + "}\n"
    with open(os.path.join(OUT, "i32_be.edf"), "wb") as f:
        f.write(header.encode("ascii"))
        f.write(pattern("i32").astype(">i4").tobytes())


def main():
    os.makedirs(OUT, exist_ok=True)
    tiffs()
    hdf5()
    edfs()
    for name in sorted(os.listdir(OUT)):
        size = os.path.getsize(os.path.join(OUT, name))
        print(f"{size:8d}  {name}")
        if size > 200_000:
            sys.exit(f"{name} is larger than 200 kB")


if __name__ == "__main__":
    main()
