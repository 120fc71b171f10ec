#!/usr/bin/env python3
"""pyserver: a small, generic HTTP model server for warmstart's supervisor.

It loads a multilayer perceptron from one safetensors file (tensors `layers.<i>.weight`, shape [out, in], and
`layers.<i>.bias`, shape [out]; ReLU between layers, none after the last), then serves:

  GET  /health   200 with the layer sizes, once the model is loaded (nothing listens before)
  POST /predict  {"inputs": [[x, ...], ...]} -> {"outputs": [[y, ...], ...]}

The safetensors file is parsed here (an 8-byte little-endian header length, a JSON header, then the raw tensors:
https://huggingface.co/docs/safetensors/index#format), so the server needs Python and NumPy only. With
PYSERVER_DEVICE=cuda the same code runs on CuPy (NumPy's API on the GPU; the CUDA variant of the image).

Exit codes: 0 stopped by SIGTERM/SIGINT; 1 the model cannot be loaded; 2 bad arguments.
"""
import argparse
import json
import math
import os
import signal
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy

DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8"}
# A header larger than this is not a model header (the format's own reference implementation caps it at 100 MB).
MAX_HEADER_BYTES = 100_000_000
MAX_BODY_BYTES = 16 * 1024 * 1024


class ModelError(Exception):
    """The model file cannot be used; the message names the file and what is wrong with it."""


def log(severity, message, **fields):
    """One JSON line per event, as the supervisor logs (Cloud Logging parses it)."""
    print(json.dumps({"severity": severity, "message": message, "component": "pyserver", **fields}), flush=True)


def read_safetensors(path):
    """Returns {name: numpy array} for the file's tensors, checking every offset against the file's size."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as err:
        raise ModelError(f"{path}: cannot be read: {err.strerror}") from err
    if len(data) < 8:
        raise ModelError(f"{path}: {len(data)} bytes, too short for a safetensors file (8-byte header length first)")
    (header_len,) = struct.unpack("<Q", data[:8])
    if header_len > MAX_HEADER_BYTES or 8 + header_len > len(data):
        raise ModelError(f"{path}: header length {header_len} does not fit the file's {len(data)} bytes; not a safetensors file, or truncated")
    try:
        header = json.loads(data[8 : 8 + header_len])
    except ValueError as err:
        raise ModelError(f"{path}: the header is not JSON ({err}); not a safetensors file") from err
    if not isinstance(header, dict):
        raise ModelError(f"{path}: the header is not a JSON object")
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES.get(info.get("dtype")) if isinstance(info, dict) else None
        if dtype is None:
            raise ModelError(f"{path}: tensor {name}: dtype {info.get('dtype') if isinstance(info, dict) else info!r} is not one of {', '.join(DTYPES)}")
        shape = info.get("shape")
        start, end = info.get("data_offsets", (None, None))
        if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise ModelError(f"{path}: tensor {name}: shape {shape!r} is not a list of sizes")
        size = numpy.dtype(dtype).itemsize * math.prod(shape)
        if not isinstance(start, int) or not isinstance(end, int) or end - start != size or start < 0 or base + end > len(data):
            raise ModelError(f"{path}: tensor {name}: data_offsets {[start, end]} do not hold {size} bytes inside the file (truncated?)")
        tensors[name] = numpy.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=base + start).reshape(shape)
    return tensors


def mlp_layers(path, tensors):
    """The (weight, bias) pairs in order, checked to chain: each layer's input is the previous layer's output."""
    layers = []
    while f"layers.{len(layers)}.weight" in tensors:
        i = len(layers)
        w = tensors[f"layers.{i}.weight"]
        b = tensors.get(f"layers.{i}.bias")
        if w.ndim != 2:
            raise ModelError(f"{path}: layers.{i}.weight has shape {list(w.shape)}; expected [out, in]")
        if b is None or list(b.shape) != [w.shape[0]]:
            raise ModelError(f"{path}: layers.{i}.bias is {'missing' if b is None else list(b.shape)}; expected [{w.shape[0]}]")
        if layers and layers[-1][0].shape[0] != w.shape[1]:
            raise ModelError(f"{path}: layers.{i}.weight takes {w.shape[1]} inputs but layers.{i - 1} gives {layers[-1][0].shape[0]}")
        layers.append((w, b))
    if not layers:
        raise ModelError(f"{path}: no tensor layers.0.weight; expected layers.<i>.weight [out, in] and layers.<i>.bias [out]")
    return layers


class Model:
    def __init__(self, path, xp):
        self.xp = xp
        self.layers = [(xp.asarray(w), xp.asarray(b)) for w, b in mlp_layers(path, read_safetensors(path))]
        self.sizes = [self.layers[0][0].shape[1]] + [w.shape[0] for w, _ in self.layers]

    def predict(self, inputs):
        x = self.xp.asarray(inputs, dtype=self.layers[0][0].dtype)
        if x.ndim != 2 or x.shape[1] != self.sizes[0]:
            raise ValueError(f'"inputs" must be a list of rows of {self.sizes[0]} numbers, got shape {list(x.shape)}')
        for i, (w, b) in enumerate(self.layers):
            x = x @ w.T + b
            if i < len(self.layers) - 1:
                x = self.xp.maximum(x, 0)
        return x.tolist()


def handler(model):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def send_json(self, status, body):
            text = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def do_GET(self):
            if self.path == "/health":
                self.send_json(200, {"status": "ok", "layers": model.sizes})
            else:
                self.send_json(404, {"error": f"no route GET {self.path}; try GET /health or POST /predict"})

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            if self.path != "/predict":
                self.rfile.read(min(length, MAX_BODY_BYTES))
                self.send_json(404, {"error": f"no route POST {self.path}; try POST /predict"})
                return
            if length > MAX_BODY_BYTES:
                self.close_connection = True
                self.send_json(413, {"error": f"body over {MAX_BODY_BYTES} bytes"})
                return
            try:
                body = json.loads(self.rfile.read(length) or b"null")
                if not isinstance(body, dict) or "inputs" not in body:
                    raise ValueError('the body must be JSON {"inputs": [[...], ...]}')
                outputs = model.predict(body["inputs"])
            except (ValueError, TypeError) as err:
                self.send_json(400, {"error": str(err)})
                return
            self.send_json(200, {"outputs": outputs})

        def log_message(self, format, *args):  # noqa: A002 (the base class's name)
            pass  # one line per request would drown the supervisor's log

    return Handler


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Environment: PYSERVER_MODEL, PYSERVER_HOST, PYSERVER_PORT, PYSERVER_DEVICE (cpu|cuda) set the defaults.")
    parser.add_argument("--model", default=os.environ.get("PYSERVER_MODEL", "/models/mlp/model.safetensors"), help="safetensors file (default %(default)s)")
    parser.add_argument("--host", default=os.environ.get("PYSERVER_HOST", "127.0.0.1"), help="address to listen on (default %(default)s)")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PYSERVER_PORT", "8000")), help="port (default %(default)s)")
    parser.add_argument("--device", choices=["cpu", "cuda"], default=os.environ.get("PYSERVER_DEVICE", "cpu"), help="cpu: NumPy; cuda: CuPy (default %(default)s)")
    args = parser.parse_args(argv)
    xp = numpy
    if args.device == "cuda":
        import cupy  # only in the CUDA image

        xp = cupy
    t0 = time.monotonic()
    try:
        model = Model(args.model, xp)
    except ModelError as err:
        log("ERROR", f"cannot load the model: {err}")
        return 1
    # The port opens only now: "listening" means "loaded", so a health check cannot pass early.
    server = ThreadingHTTPServer((args.host, args.port), handler(model))
    server.daemon_threads = True
    log("INFO", f"model loaded; listening on {args.host}:{args.port}", loadMs=round((time.monotonic() - t0) * 1000), layers=model.sizes, device=args.device)
    stop = lambda *_: threading.Thread(target=server.shutdown).start()  # noqa: E731
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
