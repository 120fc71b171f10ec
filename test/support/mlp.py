#!/usr/bin/env python3
"""The end-to-end test's model and its answer key, computed here, independently of the server under test.

  python3 test/support/mlp.py OUT_DIR [--sizes 64,3072,3072,10] [--seed 1] [--rows 4]

writes OUT_DIR/model.safetensors (float32 `layers.<i>.weight` [out, in] and `layers.<i>.bias` [out], the layout
images/pyserver/server.py loads), OUT_DIR/request.json ({"inputs": rows}) and OUT_DIR/expected.json ({"outputs"}),
the MLP's answer (ReLU between layers) computed from the arrays in memory, not from the file.
"""
import argparse
import json
import os
import struct

import numpy


def write_safetensors(path, tensors):
    """The format: https://huggingface.co/docs/safetensors/index#format (header padded with spaces to 8 bytes)."""
    header, offset = {}, 0
    for name, a in tensors.items():
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for a in tensors.values():
            f.write(numpy.ascontiguousarray(a, dtype="<f4").tobytes())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--sizes", default="64,3072,3072,10")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--rows", type=int, default=4)
    args = p.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = numpy.random.default_rng(args.seed)
    tensors = {}
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        # He initialisation keeps activations of order 1 through the ReLUs, so the answers are not all ~0.
        tensors[f"layers.{i}.weight"] = (rng.standard_normal((n_out, n_in)) * (2 / n_in) ** 0.5).astype(numpy.float32)
        tensors[f"layers.{i}.bias"] = (rng.standard_normal(n_out) * 0.1).astype(numpy.float32)
    x = rng.standard_normal((args.rows, sizes[0])).astype(numpy.float32)
    inputs = x.tolist()
    n = len(sizes) - 1
    for i in range(n):
        x = x @ tensors[f"layers.{i}.weight"].T + tensors[f"layers.{i}.bias"]
        if i < n - 1:
            x = numpy.maximum(x, 0)
    os.makedirs(args.out, exist_ok=True)
    write_safetensors(os.path.join(args.out, "model.safetensors"), tensors)
    with open(os.path.join(args.out, "request.json"), "w") as f:
        json.dump({"inputs": inputs}, f)
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump({"outputs": x.tolist()}, f)


if __name__ == "__main__":
    main()
