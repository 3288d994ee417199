"""The image engine: a loaded network (``Stego``) that hides a picture in a picture and reveals it, even from
a crop.

Images go in as paths, PIL images or arrays and come out as (H, W, 3) uint8 arrays, optionally written as
PNG. Any size works (``tiling.py``). A reveal first finds the stego's pixel grid (``Stego.alignment``: the
model's grid locator, or a contrast search), then reveals the bands along the edges found cut with the
model's border decoder (``cut_edges``, ``edge_ratios``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelError
from ..media.image import check_cover_size, check_output, read_image, resize, write_png
from ..media.tensor import to_image, to_images, to_tensor
from ..nets.files import load_model, torch_device
from ..nets.models import StegoModel
from ..nets.onnx_files import OnnxNets, load_onnx
from ..registry import DEFAULT_MODEL, model_path
from .tiling import MARGIN, TILE, pad_mode, run_padded, run_tiled

ALIGN_PATCH = 256  # side of the patches on which a stego's grid alignment is searched (Stego.alignment)
# Pixels along a cut edge that a model's border decoder reveals: benchmarks/crop_border.py finds the plain
# decoder's loss reaching about 10 pixels into a crop.
BORDER_BAND = 12
# An edge on the grid may be the picture's own or a crop's. It is taken for a crop's where the decoder and the
# border decoder disagree along it (its band) over CUT_RATIO times as much as on a strip as wide two bands
# further in, CUT_FLOOR levels added to both (a flat secret's reveals hardly disagree anywhere). On a
# picture's own edge the decoder is right and the border decoder, trained on crops, a little off; on a crop's
# the decoder is far off. benchmarks/edge_cuts.py chose both on validation photos: no uncropped stego's edge
# there reached 4 (a few reached 3), and half of the crops' edges did, those where the decoder is worst.
CUT_RATIO = 4.0
CUT_FLOOR = 0.5
EDGE_DEPTH = 3 * BORDER_BAND  # rows (columns) along each edge that the border decoder reveals: its band and,
# two bands further in, the strip that edge_ratios compares the band with
# Log-probability, summed over the search's patches, by which the grid locator's shift must beat no shift
# (Stego.located). benchmarks/alignment.py: over 180 uncropped stegos a wrong shift came at most to -0.94 of no
# shift's; over 145 crops at a nonzero offset the right shift led no shift by 4.96 or more. 2 sits between.
LOCATE_MARGIN = 2.0
LOCATOR_MIN = 16  # stegos with a side under this many pixels are not searched: too few blocks to tell
ALIGN_GAIN = 1.2  # a shift must give this much more contrast than any other to be taken (see Stego.alignment)


@dataclass
class Stego:
    """A loaded model: ``Stego.load("default").hide(cover, secret)`` and ``.reveal(stego)``.

    ``model``: the networks, a ``StegoModel`` (PyTorch) or an ``OnnxNets`` (onnxruntime; nets/onnx_files.py)
    behind the same calls, so everything here runs the same above either runtime. ``device``: where the
    tensors handed to them live."""

    model: StegoModel | OnnxNets
    card: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what was done to the input (resizing), for the CLI
    shift: tuple[int, int] = (0, 0)  # the grid shift the last reveal used (alignment)
    cut: tuple[bool, bool, bool, bool] = (False,) * 4  # the edges the last reveal found cut (cut_edges)

    device: torch.device = torch.device("cpu")

    @classmethod
    def load(cls, name: str | Path = DEFAULT_MODEL, device: str = "auto") -> "Stego":
        path, dev = model_path(name), torch_device(device)
        if path.suffix == ".onnx":  # onnxruntime places the graph on the device; tensors cross on the CPU
            nets, card = load_onnx(path, dev.type)
            return cls(nets, card)
        model, card = load_model(path)
        return cls(model.to(dev), card, device=dev)

    def _tensor(self, image: np.ndarray) -> torch.Tensor:
        return to_tensor(image).to(self.device)

    @property
    def part(self) -> str:
        """Which sub-networks the file held: "full", "sender" (CN + EN) or "receiver" (DN)."""
        return self.card.get("part", "full")

    def hide(self, cover, secret, output: str | Path | None = None, force: bool = False) -> np.ndarray:
        """Hide ``secret`` in ``cover``; return the stego as uint8 (H, W, 3), and write it as PNG if asked."""
        if self.part == "receiver":
            raise ModelError("this model file is a receiver (decoder only): it cannot hide")
        if output is not None:
            check_output(output, force)
        self.notes = []
        cover_img = read_image(cover, self.notes)
        secret_img = read_image(secret, self.notes)
        h, w = cover_img.shape[:2]
        check_cover_size(w, h, cover if isinstance(cover, (str, Path)) else "the cover")
        if secret_img.shape[:2] != (h, w):
            sh, sw = secret_img.shape[:2]
            self.notes.append(f"secret resized from {sw}x{sh} to the cover's {w}x{h}")
            secret_img = resize(secret_img, h, w)
        with torch.inference_mode():
            stego = run_tiled(
                self.model.hide, [self._tensor(cover_img), self._tensor(secret_img)], self.model.multiple,
                self.model.config.cover_channels,
            )
        stego_img = to_image(stego)
        if output is not None:
            write_png(output, stego_img, force)
        return stego_img

    def hide_arrays(self, covers: list[np.ndarray], secrets: list[np.ndarray]) -> list[np.ndarray]:
        """The stegos of covers of one size (uint8 arrays; secrets resized to them), through the networks as one
        batch where they fit in a tile, else one by one."""
        if self.part == "receiver":
            raise ModelError("this model file is a receiver (decoder only): it cannot hide")
        h, w = covers[0].shape[:2]
        if h > TILE + 2 * MARGIN or w > TILE + 2 * MARGIN:
            return [self.hide(c, s) for c, s in zip(covers, secrets)]
        secrets = [s if s.shape[:2] == (h, w) else resize(s, h, w) for s in secrets]
        with torch.inference_mode():
            stegos = run_padded(self.model.hide, [torch.cat([self._tensor(c) for c in covers]),
                                                  torch.cat([self._tensor(s) for s in secrets])], self.model.multiple)
        return list(to_images(stegos))

    def alignment(self, stego_img: np.ndarray) -> tuple[int, int]:
        """(dy, dx): rows and columns the stego lost at its top and left, modulo the model's grid.

        A model on Haar sub-bands only reads a stego whose pixel grid lines up with the one it was hidden on;
        a crop at an odd offset breaks that, and the reveal turns to a washed-out blur. A model with a grid
        locator (nets/locator.py) asks it (``located``): it reads the grid from the stego's residual, and found
        every crop's shift that the search below missed, in a tenth of the time (benchmarks/alignment.py).

        Without one, the contrast search: on patches of the
        stego (the centre, then the quadrants' centres), every shift is revealed, and its contrast (standard
        deviation) summed over the patches so far; the shift with the most wins, but only when it beats every
        other shift, no shift included, by ``ALIGN_GAIN`` over all patches. Where the centre patch alone
        favours no shift, the search stops there (the common case: an uncropped stego).

        Why contrast, and why all patches: a wrong shift on an uncropped stego (the common case) ruins a reveal
        that was right. On an uncropped stego whose secret is flat (a black video frame, a grey picture), the
        right reveal has almost no contrast and every wrong shift gives garbage with more, but wrong shifts
        are alike, and stay alike over more patches. On a smooth picture the right shift of a crop stands out
        little on one patch: with the centre patch of 128 pixels alone, 51 of 90 crops of 1024x1024 wallpapers
        found their shift; summed over five patches of 256, 74, while every one of 120 uncropped stegos (60 of
        a flat secret) kept none (benchmarks/alignment.py). There a wrong shift led the sum by at most 1.13
        times: a bar of 1.15 would find 79 crops' shifts, but with little room for a wrong one.
        """
        if self.model.multiple == 1:
            return 0, 0
        if self.model.locator is not None:
            return self.located(stego_img)
        total = self.summed_contrasts(stego_img, stop_at_none=True)
        found = max(total, key=total.get)
        runner_up = max(v for k, v in total.items() if k != found)
        if found == (0, 0) or total[found] <= ALIGN_GAIN * runner_up:
            return 0, 0
        return found

    def located(self, stego_img: np.ndarray) -> tuple[int, int]:
        """The grid shift by the model's grid locator (nets/locator.py): the shift with the most evidence over
        the search's patches, when it beats no shift by ``LOCATE_MARGIN``; no shift for a stego too small to
        tell."""
        evidence = self.shift_evidence(stego_img)
        if not evidence:
            return 0, 0
        found = max(evidence, key=evidence.get)
        if found != (0, 0) and evidence[found] - evidence[0, 0] < LOCATE_MARGIN:
            return 0, 0
        return found

    def shift_evidence(self, stego_img: np.ndarray) -> dict[tuple[int, int], float]:
        """For every shift of the grid, the locator's log-probability summed over the search's patches (which
        lie on the grid, so that a shift holds for all); empty for a stego under ``LOCATOR_MIN`` pixels a side."""
        h, w = stego_img.shape[:2]
        if min(h, w) < LOCATOR_MIN:
            return {}
        ph, pw = min(h, ALIGN_PATCH), min(w, ALIGN_PATCH)
        patches = np.stack([stego_img[y : y + ph, x : x + pw] for y, x in self.patch_spots(h, w)])
        x = torch.from_numpy(patches).permute(0, 3, 1, 2).to(self.device).float().div_(255.0)
        with torch.inference_mode():
            logp = self.model.locator(x).log_softmax(1).sum(0).cpu()
        m = self.model.multiple
        return {(dy, dx): float(logp[dy * m + dx]) for dy in range(m) for dx in range(m)}

    def summed_contrasts(self, stego_img: np.ndarray, stop_at_none: bool = False) -> dict[tuple[int, int], float]:
        """For every shift of the grid, the contrast of its reveal summed over the search's patches
        (``patch_spots``); with ``stop_at_none``, over the centre patch alone where no shift leads there."""
        h, w = stego_img.shape[:2]
        ph, pw = min(h, ALIGN_PATCH), min(w, ALIGN_PATCH)
        total: dict[tuple[int, int], float] = {}
        for i, (y, x) in enumerate(self.patch_spots(h, w)):
            for shift, c in self._contrasts(stego_img[y : y + ph, x : x + pw]).items():
                total[shift] = total.get(shift, 0.0) + c
            if i == 0 and stop_at_none and max(total, key=total.get) == (0, 0):
                break
        return total

    def patch_spots(self, h: int, w: int) -> list[tuple[int, int]]:
        """Top-left corners of the patches the grid search reads in an h x w stego, on the grid so that a shift
        holds for all: the centre, then the centres of the quadrants (fewer where they coincide)."""
        m = self.model.multiple
        ph, pw = min(h, ALIGN_PATCH), min(w, ALIGN_PATCH)
        spots = [((h - ph) // 2, (w - pw) // 2)] + [(h * fy // 4 - ph // 2, w * fx // 4 - pw // 2)
                                                    for fy, fx in ((1, 1), (1, 3), (3, 1), (3, 3))]
        spots = [(max(0, min(y, h - ph)) // m * m, max(0, min(x, w - pw)) // m * m) for y, x in spots]
        return list(dict.fromkeys(spots))

    def _contrasts(self, patch: np.ndarray) -> dict[tuple[int, int], float]:
        """For every shift of the grid, the contrast (standard deviation) of the reveal of ``patch``."""
        m = self.model.multiple
        ph, pw = patch.shape[:2]
        # All m*m shifts in one batch (one big convolution is cheaper than m*m small ones on a CPU).
        mode = pad_mode(patch)
        shifts = [(dy, dx) for dy in range(m) for dx in range(m)]
        batch = np.stack([np.pad(patch, ((dy, m - 1 - dy), (dx, m - 1 - dx), (0, 0)), mode=mode) for dy, dx in shifts])
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).to(self.device).float().div_(255.0)
        with torch.inference_mode():
            out = run_padded(self.model.reveal, [x], m).clamp(0, 1).cpu()
        return {(dy, dx): float(out[i, :, dy : dy + ph, dx : dx + pw].std()) for i, (dy, dx) in enumerate(shifts)}

    def reveal(self, stego, output: str | Path | None = None, force: bool = False, align: bool = True) -> np.ndarray:
        """Reveal the secret of ``stego``; return it as uint8 (H, W, 3), and write it as PNG if asked.

        ``align``: find the pixel grid first (see ``alignment``), so that a cropped stego still reveals.
        """
        if self.part == "sender":
            raise ModelError("this model file is a sender (compressor + encoder): it cannot reveal")
        if output is not None:
            check_output(output, force)
        stego_img = read_image(stego)
        self.shift = shift = self.alignment(stego_img) if align else (0, 0)
        revealed_img = self.reveal_shifted(stego_img, *shift, find_cuts=align)
        if output is not None:
            write_png(output, revealed_img, force)
        return revealed_img

    def reveal_shifted(self, stego_img: np.ndarray, dy: int, dx: int, find_cuts: bool = True) -> np.ndarray:
        """The reveal of a uint8 stego that lost ``dy`` rows and ``dx`` columns of its grid's first blocks: they
        are mirrored back in. A model with a border decoder (``NetConfig.border``) reveals the band along each
        edge found cut with it (``cut_edges``; the edges found cut are left in ``self.cut``). Without
        ``find_cuts`` (a stego known to be uncropped, such as a video's frame) only the edges off the grid are
        cut, and the edges on it are not looked at."""
        # Locals, and self.cut only as a report: threads (exypno serve's jobs) may share one loaded model.
        h, w = stego_img.shape[:2]
        self.cut = cut = cut_edges(h, w, dy, dx, self.model.multiple)  # those off the grid
        revealed_img, border = self.both_reveals(stego_img, dy, dx, border=find_cuts or any(cut))
        if border is None:
            return revealed_img
        if find_cuts:
            self.cut = cut = cut_edges(h, w, dy, dx, self.model.multiple, edge_ratios(revealed_img, border))
        return np.where(border_band(h, w, cut, BORDER_BAND)[..., None], border, revealed_img)

    def both_reveals(self, stego_img: np.ndarray, dy: int, dx: int, border: bool = True
                     ) -> tuple[np.ndarray, np.ndarray | None]:
        """The decoder's reveal, and the border decoder's along each edge (``EDGE_DEPTH`` deep; zero further in),
        or None without one (or not asked for)."""
        if dy or dx:
            stego_img = np.pad(stego_img, ((dy, 0), (dx, 0), (0, 0)), mode=pad_mode(stego_img))
        revealed_img = self._decode(self.model.reveal, stego_img)[dy:, dx:]
        if self.model.border_decoder is None or not border:
            return revealed_img, None
        border = np.zeros((*stego_img.shape[:2], self.model.config.secret_channels), np.uint8)
        for (rows, cols), (keep_rows, keep_cols) in self._border_strips(*stego_img.shape[:2], dy, dx):
            strip = self._decode(self.model.reveal_border, stego_img[rows, cols])
            border[rows, cols][keep_rows, keep_cols] = strip[keep_rows, keep_cols]
        return revealed_img, border[dy:, dx:]

    def _decode(self, decoder, img: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out = run_tiled(decoder, [self._tensor(img)], self.model.multiple, self.model.config.secret_channels)
        return to_image(out)

    def _border_strips(self, hp: int, wp: int, dy: int, dx: int) -> list[tuple[tuple[slice, slice], ...]]:
        """Where the border decoder runs on an (hp, wp) stego padded onto the grid, and which of its output to
        keep (in the strip's coordinates): a strip along each edge, from a row or column on the grid, reaching
        ``MARGIN`` pixels of context past the ``EDGE_DEPTH`` kept (as tiles do: near another strip's far side
        a strip has no context); or the whole picture, where the strips would cover half of it or more."""
        m, depth = self.model.multiple, EDGE_DEPTH
        reach, every = depth + MARGIN, slice(None)

        def lead(shift: int) -> tuple[slice, slice]:  # from the first row (column); its band starts at `shift`
            return slice(0, -(-(shift + reach) // m) * m), slice(shift, shift + depth)

        def tail(n: int) -> tuple[slice, slice]:  # from a row (column) on the grid; its band ends at `n`
            start = max(0, n - reach) // m * m
            return slice(start, n), slice(max(0, n - depth - start), None)

        strips = [((span, every), (keep, every)) if rows else ((every, span), (every, keep))
                  for (span, keep), rows in zip((lead(dy), lead(dx), tail(hp), tail(wp)), (True, False, True, False))]
        area = sum(len(range(hp)[r]) * len(range(wp)[c]) for (r, c), _ in strips)
        return strips if 2 * area < hp * wp else [((every, every), (every, every))]


def edge_views(a: np.ndarray) -> tuple[np.ndarray, ...]:
    """Views of ``a`` (H, W, ...) with each edge (top, left, bottom, right) as their first row."""
    t = a.swapaxes(0, 1)
    return a, t, a[::-1], t[::-1]


def edge_ratios(revealed: np.ndarray, border: np.ndarray) -> list[float | None]:
    """For each edge (top, left, bottom, right): how much more the decoder's and the border decoder's reveals
    disagree along its band than on a strip as wide two bands further in (``CUT_RATIO``; corners left out,
    ``CUT_FLOOR`` added to both); None where the picture is too small to tell."""
    b, ratios = BORDER_BAND, []
    for ours, theirs in zip(edge_views(revealed), edge_views(border)):
        if ours.shape[0] < 2 * EDGE_DEPTH or ours.shape[1] <= 2 * b:
            ratios.append(None)
            continue
        gap = np.abs(ours[: 3 * b, b:-b].astype(np.float32) - theirs[: 3 * b, b:-b]).mean(-1)
        band, further = gap[:b].mean(), gap[2 * b :].mean()
        ratios.append(float((band + CUT_FLOOR) / (further + CUT_FLOOR)))
    return ratios


def cut_edges(h: int, w: int, dy: int, dx: int, m: int, ratios: list[float | None] | None = None
              ) -> tuple[bool, bool, bool, bool]:
    """Which edges of an h x w stego (top, left, bottom, right) were cut, the grid search having found the shift
    (dy, dx) on the model's grid of ``m`` pixels. An edge that cuts through the grid's blocks was (a crop's, or
    the far edge of a picture whose side is no multiple of ``m``, whose last blocks were cut when the stego was
    written); one on the grid was where its ``edge_ratios`` exceeds ``CUT_RATIO``."""
    if m == 1:
        return (False,) * 4
    off = (dy != 0, dx != 0, (dy + h) % m != 0, (dx + w) % m != 0)
    ratios = ratios or [None] * 4
    return tuple(bool(o or (r is not None and r > CUT_RATIO)) for o, r in zip(off, ratios))


def border_band(h: int, w: int, cut: tuple[bool, bool, bool, bool], width: int) -> np.ndarray:
    """(h, w) bool: the pixels within ``width`` of an edge that ``cut`` marks (top, left, bottom, right)."""
    top, left, bottom, right = cut
    rows, cols = np.arange(h)[:, None], np.arange(w)[None, :]
    return ((top & (rows < width)) | (bottom & (rows >= h - width))
            | (left & (cols < width)) | (right & (cols >= w - width)))

