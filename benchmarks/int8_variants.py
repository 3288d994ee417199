"""int8 variants of the default model (docs/deploy.md's table): held-out cover and secret PSNR over the seven
held-out photos at 512x512 (int8 hide and int8 reveal; ``split``: each side alone), file size against float.

    python benchmarks/int8_variants.py float
    python benchmarks/int8_variants.py base '{"split": true}'
    python benchmarks/int8_variants.py a16 '{"extra": {"UseQDQContribOps": true}, "a16": true}'
    python benchmarks/int8_variants.py rx_float '{"float": ["/decoder/", "/border_decoder/"]}'
    python benchmarks/int8_variants.py entropy '{"method": "Entropy"}'
    python benchmarks/int8_variants.py synth8 '{"synth": true}'

Options: float (node-name prefixes kept float), method (MinMax, Percentile, Entropy), extra (onnxruntime's
extra_options), pairs, synth (calibrate on tests/conftest.py's smooth_photo), add (quantise the residual adds),
a16 (int16 activations). Files go to $EXYPNO_INT8_DIR (default /tmp/exypno-int8); photos from data/photos.
"""
import json, sys, tempfile, time
from pathlib import Path
import numpy as np, torch
torch.set_num_threads(2)
import onnx
from onnxruntime import quantization as Q
from exypno.nets.files import load_model
from exypno.registry import model_path
from exypno.nets import onnx_files as OF
from exypno.inference.image import Stego
from exypno.evaluate.heldout import heldout_photos
from exypno.media.metrics import psnr_8bit
from exypno.train.calibration import calibration_photos

import os
D = Path(os.environ.get("EXYPNO_INT8_DIR", "/tmp/exypno-int8"))
D.mkdir(parents=True, exist_ok=True)
ROOT = Path(__file__).resolve().parent.parent
model, card = load_model(model_path("default"))
full = D / "full.onnx"
if not full.exists():
    OF.export_onnx(model, card, "full", full)
roles = OF.model_roles(model, "full")
photos = list(heldout_photos(512).values())

def score(path, hide_path=None):
    s = Stego.load(path, "cpu"); h = Stego.load(hide_path, "cpu") if hide_path else s
    cov, sec = [], []
    for i in range(len(photos)):
        st = h.hide(photos[i], photos[(i + 1) % len(photos)])
        cov.append(psnr_8bit(photos[i], st)); sec.append(psnr_8bit(photos[(i + 1) % len(photos)], s.reveal(st)))
    return float(np.mean(cov)), float(np.mean(sec))

def synth(n, side=256, seed=0):
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import smooth_photo
    rng = np.random.default_rng(seed)
    ims = [smooth_photo(rng, side, side) for _ in range(2 * n)]
    return list(zip(ims[:n], ims[n:]))

A16 = False
def quant(name, pairs, method="MinMax", extra_float=(), per_channel=True, extra=None, add=True):
    feeds = OF.calibration_feeds(model, pairs, roles)
    proto = onnx.load(str(full))
    chosen = [n for n in OF.int8_nodes(proto) if not n.startswith(tuple(extra_float))]
    if not add:
        chosen = [n for n in chosen if not n.endswith("/Add")]
    keep = [n.name for n in proto.graph.node if n.name not in chosen]
    class R(Q.CalibrationDataReader):
        def __init__(s): s.it = iter(feeds)
        def get_next(s): return next(s.it, None)
    out = D / f"{name}.onnx"
    t = time.time()
    Q.quantize_static(str(full), str(out), R(), quant_format=Q.QuantFormat.QDQ, activation_type=Q.QuantType.QInt16 if A16 else Q.QuantType.QInt8,
                      weight_type=Q.QuantType.QInt8, per_channel=per_channel, op_types_to_quantize=["Conv", "Add"],
                      nodes_to_exclude=keep, calibrate_method=getattr(Q.CalibrationMethod, method), extra_options=extra or {})
    q = onnx.load(str(out)); meta = {p.key: p.value for p in onnx.load(str(full)).metadata_props}
    for k, v in meta.items(): q.metadata_props.add(key=k, value=v)
    out.write_bytes(q.SerializeToString())
    return out, time.time() - t

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "names":
        proto = onnx.load(str(full))
        for n in proto.graph.node:
            if n.op_type == "Conv": print(n.name)
        sys.exit()
    if what == "float":
        print(json.dumps({"variant": "float", "psnr": score(full), "bytes": full.stat().st_size}), flush=True); sys.exit()
    real = lambda n: calibration_photos(ROOT / "data" / "photos", model.multiple, pairs=n)
    V = json.loads(sys.argv[2]); A16 = V.get("a16", False)
    pairs = synth(V.get("pairs", 8), seed=V.get("seed", 0)) if V.get("synth") else real(V.get("pairs", 8))
    out, qt = quant(what, pairs, V.get("method", "MinMax"), V.get("float", ()), V.get("per_channel", True), V.get("extra"), V.get("add", True))
    r = {"variant": what, **V, "psnr": score(out), "bytes": out.stat().st_size, "ratio": out.stat().st_size / full.stat().st_size, "quant_s": qt}
    if V.get("split"):
        r["float_hide_int8_reveal"] = score(out, full); r["int8_hide_float_reveal"] = score(full, out)
    print(json.dumps(r), flush=True)
