"""Models as ONNX files, for runtimes other than PyTorch (onnxruntime): export, int8 quantisation, loading.

Format ``exypno-onnx/1``: one ONNX model (opset 17), float32 tensors in [0, 1], NCHW. Its graph holds the
sub-networks of the part exported, each with its own inputs and outputs, named ``ROLE.NAME``:

=========  =================================  ===========================  ============================
role       inputs                             output                       parts
=========  =================================  ===========================  ============================
hide       hide.cover (N, C, H, W),           hide.stego (N, C, H, W),     sender, full
           hide.secret (N, S, H, W)           float, before 8-bit rounding
reveal     reveal.stego (N, C, H, W)          reveal.secret (N, S, H, W)   receiver, full
border     border.stego (N, C, H, W)          border.secret (N, S, H, W)   receiver, full (with a border decoder)
locate     locate.stego (N, C, H, W)          locate.logits (N, m*m)       receiver, full (with a grid locator)
=========  =================================  ===========================  ============================

N, H and W are dynamic; H and W must be multiples of the model's grid ``m`` (``exypno.multiple``: 4 for the
default), which the engine above (``api.Stego``) pads to, as it does for PyTorch. The sub-graphs share
nothing, so a runtime runs each on its own: ``OnnxNets`` cuts the file into one session per role.

``metadata_props`` make the file say what it is: ``exypno.format`` (``exypno-onnx/1``), ``exypno.part``,
``exypno.multiple``, ``exypno.precision`` (``float32`` or ``int8``) and ``exypno.card``: the model card as
JSON, the same as a ``.safetensors`` model's ``.json`` (with ``config``, every constructor argument).

int8 (``quantize_int8``): onnxruntime's static quantisation in QDQ form of the convolutions in the residual
trunks and the compressor (``int8_nodes``): int8 weights, one scale per output channel, and int16 activations,
their ranges calibrated on (cover, secret) pairs (``train/calibration.py``). int16 activations use
onnxruntime's ``com.microsoft`` QuantizeLinear and DequantizeLinear, so an int8 file runs in onnxruntime; int8
activations cost the held-out secret 1.8 dB at 512x512, most of it in the sender. The convolutions that read
the stego or write the residual stay float (``FLOAT_CONVS``): the residual is a few 8-bit levels on top of the
cover, which one scale for a whole tensor would round away.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import ExypnoError
from .models import NetConfig, StegoModel

FORMAT = "exypno-onnx/1"
OPSET = 17
ROLES = {  # role: (inputs, output)
    "hide": (("hide.cover", "hide.secret"), "hide.stego"),
    "reveal": (("reveal.stego",), "reveal.secret"),
    "border": (("border.stego",), "border.secret"),
    "locate": (("locate.stego",), "locate.logits"),
}
PART_ROLES = {"sender": ("hide",), "receiver": ("reveal", "border", "locate"),
              "full": ("hide", "reveal", "border", "locate")}


def _need(module: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ExypnoError(f"ONNX needs the extra: pip install 'exypno[onnx]' ({module} is not installed)") from None


def model_roles(model: StegoModel, part: str) -> tuple[str, ...]:
    """The roles a ``part`` of ``model`` has: a border decoder and a grid locator only where the model has them."""
    have = {"hide": True, "reveal": True, "border": model.border_decoder is not None,
            "locate": model.locator is not None}
    return tuple(r for r in PART_ROLES[part] if have[r])


class _Graph(nn.Module):
    """The sub-networks of ``roles`` side by side: one forward, so one trace gives one graph."""

    def __init__(self, model: StegoModel, roles: tuple[str, ...]):
        super().__init__()
        self.model, self.roles = model, roles

    def forward(self, *inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
        calls = {"hide": self.model.hide, "reveal": self.model.reveal, "border": self.model.reveal_border,
                 "locate": self.model.locator}
        out, i = [], 0
        for role in self.roles:
            n = len(ROLES[role][0])
            out.append(calls[role](*inputs[i : i + n]))
            i += n
        return tuple(out)


def export_onnx(model: StegoModel, card: dict, part: str, output: Path, force: bool = False,
                sample: int = 64) -> Path:
    """Write ``part`` (sender, receiver or full) of ``model`` as an ONNX file, its card in the metadata."""
    onnx = _need("onnx")
    from ..media.files import check_output, write_bytes

    check_output(output, force)
    roles = model_roles(model, part)
    m = model.multiple
    side = -(-sample // m) * m
    channels = {"cover": model.config.cover_channels, "secret": model.config.secret_channels,
                "stego": model.config.cover_channels}
    names = [name for r in roles for name in ROLES[r][0]]
    args = tuple(torch.rand(1, channels[n.split(".")[1]], side, side) for n in names)
    outputs = [ROLES[r][1] for r in roles]
    axes = {n: {0: "batch", 2: "height", 3: "width"} for n in names}
    axes.update({o: ({0: "batch"} if o == "locate.logits" else {0: "batch", 2: "height", 3: "width"})
                 for o in outputs})
    import io

    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the TorchScript exporter's deprecation note, and trace notes on shapes
        warnings.simplefilter("ignore")
        torch.onnx.export(_Graph(model.eval(), roles), args, buffer, dynamo=False, opset_version=OPSET,
                          input_names=names, output_names=outputs, dynamic_axes=axes, do_constant_folding=True)
    proto = onnx.load_from_string(buffer.getvalue())
    doc = dict(card)
    doc.update(format="exypno-model/1", part=part, config=model.config.to_dict())
    _set_metadata(proto, doc, part, m, "float32")
    return write_bytes(output, proto.SerializeToString(), force)


def _set_metadata(proto, card: dict, part: str, multiple: int, precision: str) -> None:
    meta = {"exypno.format": FORMAT, "exypno.part": part, "exypno.multiple": str(multiple),
            "exypno.precision": precision, "exypno.card": json.dumps(card)}
    del proto.metadata_props[:]
    for key, value in meta.items():
        proto.metadata_props.add(key=key, value=value)
    proto.producer_name = "exypno"
    proto.doc_string = str(card.get("purpose", ""))


def read_metadata(proto, path: Path) -> dict[str, str]:
    meta = {p.key: p.value for p in proto.metadata_props}
    if meta.get("exypno.format") != FORMAT:
        raise ExypnoError(f"{path}: not an Exypno ONNX model (no {FORMAT} metadata)")
    return meta


def calibration_feeds(model: StegoModel, pairs: list[tuple[np.ndarray, np.ndarray]], roles: tuple[str, ...]
                      ) -> list[dict[str, np.ndarray]]:
    """Inputs for every role of a graph, one dict per (cover, secret) pair of uint8 (H, W, 3) arrays (sides a
    multiple of the grid): covers and secrets for ``hide``; the float model's 8-bit stegos of them for the
    receiver's roles, as they come out of a PNG."""
    feeds = []
    for cover, secret in pairs:
        c, s = (torch.from_numpy(np.ascontiguousarray(a)).permute(2, 0, 1)[None].float() / 255 for a in (cover, secret))
        with torch.inference_mode():
            stego = torch.round(model.hide(c, s).clamp(0, 1) * 255) / 255
        given = {"cover": c, "secret": s, "stego": stego}
        feeds.append({n: given[n.split(".")[1]].numpy() for r in roles for n in ROLES[r][0]})
    return feeds


def quantize_int8(float_path: Path, output: Path, feeds: list[dict[str, np.ndarray]], force: bool = False) -> Path:
    """Quantise an exported float model to int8 (see the module's docstring), calibrated on ``feeds``."""
    onnx = _need("onnx")
    quantization = _need("onnxruntime.quantization")
    from ..media.files import check_output, write_bytes

    check_output(output, force)
    proto = onnx.load(str(float_path))
    meta = read_metadata(proto, float_path)
    chosen = int8_nodes(proto)
    keep_float = [n.name for n in proto.graph.node if n.name not in chosen]

    class Reader(quantization.CalibrationDataReader):
        def __init__(self):
            self.items = iter(feeds)

        def get_next(self):
            return next(self.items, None)

    import tempfile

    with tempfile.TemporaryDirectory(prefix="exypno-int8-") as tmp:
        out = Path(tmp) / "int8.onnx"
        quantization.quantize_static(
            str(float_path), str(out), Reader(), quant_format=quantization.QuantFormat.QDQ,
            activation_type=quantization.QuantType.QInt16, weight_type=quantization.QuantType.QInt8,
            per_channel=True, op_types_to_quantize=["Conv", "Add"], nodes_to_exclude=keep_float,
            calibrate_method=quantization.CalibrationMethod.MinMax, extra_options={"UseQDQContribOps": True},
        )
        quantized = onnx.load(str(out))
    card = json.loads(meta["exypno.card"])
    card["quantized"] = {"precision": "int8", "weights": "int8, per output channel", "activations": "int16",
                         "method": "onnxruntime quantize_static, QDQ (com.microsoft), MinMax calibration",
                         "layers": sorted(chosen), "calibration": len(feeds)}
    _set_metadata(quantized, card, meta["exypno.part"], int(meta["exypno.multiple"]), "int8")
    return write_bytes(output, quantized.SerializeToString(), force)


# Convolutions kept float in int8 files: those that read the stego (the receiver's stems, the grid locator's
# first) or see the cover's fine detail (the encoder's stem), and those that write the residual, the secret or
# the locator's score. Quantising the encoder's stem as well cost 3.6 dB of the held-out secret.
FLOAT_CONVS = ("/encoder/net/stem/", "/encoder/net/head/", "/decoder/net/stem/", "/decoder/net/head/",
               "/border_decoder/net/stem/", "/border_decoder/net/head/", "/locator/net/net.0/", "/locator/net/net.6/")


def int8_nodes(proto) -> list[str]:
    """The nodes quantised: every convolution but ``FLOAT_CONVS``, and the residual blocks' additions (so
    that a trunk stays int8 from block to block)."""
    return [n.name for n in proto.graph.node
            if (n.op_type == "Conv" and not n.name.startswith(FLOAT_CONVS))
            or (n.op_type == "Add" and "/blocks/blocks." in n.name and n.name.endswith("/Add"))]


class OnnxNets:
    """An ONNX model behind the calls the engine makes of a ``StegoModel`` (``hide``, ``reveal``,
    ``reveal_border``, ``locator``, ``multiple``, ``config``, ``part``): tensors in, tensors out, so the tiling,
    padding and grid search above do not know which runtime runs the networks. CPU tensors in and out; with
    ``device="cuda"`` onnxruntime's CUDA provider runs the graph (it needs the onnxruntime-gpu build)."""

    def __init__(self, path: Path, device: str = "cpu"):
        onnx = _need("onnx")
        ort = _need("onnxruntime")
        path = Path(path)
        try:
            proto = onnx.load(str(path))
        except Exception as e:  # onnx raises protobuf's DecodeError and others for a damaged file
            raise ExypnoError(f"{path}: not an ONNX file ({e.__class__.__name__})") from None
        meta = read_metadata(proto, path)
        self.card = json.loads(meta["exypno.card"])
        self.part = meta["exypno.part"]
        self.precision = meta["exypno.precision"]
        self.multiple = int(meta["exypno.multiple"])
        try:
            self.config = NetConfig.from_dict(self.card["config"])
        except (KeyError, TypeError, ValueError) as e:
            raise ExypnoError(f"{path}: bad model config in its metadata ({e})") from None
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ExypnoError("--device cuda with an ONNX model needs onnxruntime-gpu (this onnxruntime has "
                                  "no CUDA provider)")
            providers.insert(0, "CUDAExecutionProvider")
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        outputs = {o.name for o in proto.graph.output}
        self.sessions = {}
        for role, (inputs, output) in ROLES.items():
            if output not in outputs:
                continue
            sub = onnx.utils.Extractor(proto).extract_model(list(inputs), [output])
            self.sessions[role] = ort.InferenceSession(sub.SerializeToString(), options, providers=providers)
        self.border_decoder = True if "border" in self.sessions else None  # what the engine asks of a model
        self.locator = self._runner("locate") if "locate" in self.sessions else None

    def _runner(self, role: str):
        inputs, _ = ROLES[role]
        session = self.sessions[role]

        def run(*tensors: torch.Tensor) -> torch.Tensor:
            feed = {n: np.ascontiguousarray(t.detach().cpu().numpy(), dtype=np.float32) for n, t in zip(inputs, tensors)}
            return torch.from_numpy(session.run(None, feed)[0])

        return run

    def hide(self, cover: torch.Tensor, secret: torch.Tensor) -> torch.Tensor:
        return self._runner("hide")(cover, secret)

    def reveal(self, stego: torch.Tensor) -> torch.Tensor:
        return self._runner("reveal")(stego)

    def reveal_border(self, stego: torch.Tensor) -> torch.Tensor:
        return self._runner("border")(stego)


def load_onnx(path: Path, device: str = "cpu") -> tuple[OnnxNets, dict]:
    path = Path(path)
    if not path.is_file():
        raise ExypnoError(f"{path}: model file not found")
    nets = OnnxNets(path, device)
    return nets, nets.card
