"""``exypno analyze``: run the structural detectors over images, print a table, write CSV and an ROC plot.

With labels (``--clean DIR --stego DIR``) it also reports, for each detector and the fusion, the ROC AUC
and the detection and false-alarm rates at StegExpose's threshold 0.2.
"""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np

from ..errors import ExypnoError
from ..media.files import make_folder, write_bytes
from ..media.folders import list_photos
from ..media.image import read_image
from .structural import DETECTORS, THRESHOLD, analyze

STRUCTURAL = (*DETECTORS, "fused")


def expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            found = list_photos(p)
            if not found:
                raise ExypnoError(f"{p}: no images")
            files += found
        elif p.exists():
            files.append(p)
        else:
            raise ExypnoError(f"{p}: no such file or folder")
    return files


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve by the rank-sum (Mann-Whitney) statistic; ties count one half."""
    ok = ~np.isnan(scores)
    s, y = scores[ok], labels[ok].astype(bool)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return math.nan
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def roc_curve(scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    s = np.nan_to_num(scores, nan=-1.0)
    thresholds = np.unique(np.concatenate([[np.inf], s]))[::-1]
    y = labels.astype(bool)
    tpr = np.array([(s[y] >= t).mean() for t in thresholds])
    fpr = np.array([(s[~y] >= t).mean() for t in thresholds])
    return fpr, tpr


def analyze_files(files: list[Path], labels: list[int] | None = None, learned: dict | None = None) -> list[dict]:
    """Scores of every structural detector and of each learned detector ({column name: network})."""
    from .learned import score_images

    rows = []
    for f in files:
        try:
            image = read_image(f)
        except ExypnoError as e:  # one bad file is reported in its row; the others go on
            row = {"file": str(f), **{k: math.nan for k in (*STRUCTURAL, "estimated_rate", *(learned or {}))},
                   "stego": None, "error": str(e)}
        else:
            result = analyze(image)
            row = {"file": str(f), **{k: result[k] for k in STRUCTURAL}, "stego": result["stego"],
                   "estimated_rate": result["estimated_rate"], "error": ""}
            for name, net in (learned or {}).items():
                row[name] = float(score_images(net, [image])[0])
        if labels is not None:
            row["label"] = labels[len(rows)]
        rows.append(row)
    return rows


def summarize(rows: list[dict], columns) -> dict:
    labels = np.array([r["label"] for r in rows])
    out = {}
    for k in columns:
        s = np.array([r[k] for r in rows], dtype=float)
        threshold = THRESHOLD if k in STRUCTURAL else 0.5  # learned detectors give P(stego)
        flagged = np.nan_to_num(s, nan=0.0) >= threshold
        out[k] = {"auc": roc_auc(s, labels), "detection_rate": float(flagged[labels == 1].mean()),
                  "false_alarm_rate": float(flagged[labels == 0].mean())}
    return out


def verdict(row: dict) -> str:
    if row.get("error"):
        return "unreadable"
    return "cannot judge" if row["stego"] is None else "STEGO" if row["stego"] else "clean"


def write_outputs(rows: list[dict], out: Path, summary: dict | None, columns) -> None:
    make_folder(out)
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    write_bytes(out / "scores.csv", text.getvalue().encode(), force=True)
    if summary is None:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = np.array([r["label"] for r in rows])
    fig, ax = plt.subplots(figsize=(5, 5))
    for k in columns:
        fpr, tpr = roc_curve(np.array([r[k] for r in rows], dtype=float), labels)
        ax.plot(fpr, tpr, label=f"{k} (AUC {summary[k]['auc']:.3f})", lw=2.5 if k == "fused" else 1.2)
    ax.plot([0, 1], [0, 1], "k:", lw=1, label="random guess")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=100)
    plt.close(fig)


def run_analyze(paths: list[Path], clean: Path | None, stego: Path | None, out: Path,
                detectors: list[Path] = ()) -> dict | None:
    """Learned detectors' scores are P(stego); their column is the detector file's name."""
    from .learned import load_detector

    if (clean is None) != (stego is None):
        raise ExypnoError("give both --clean and --stego, or neither")
    learned = {Path(d).stem: load_detector(Path(d))[0] for d in detectors}
    columns = (*STRUCTURAL, *learned)
    files = expand(paths)
    labels = None
    if clean is not None:
        clean_files, stego_files = expand([clean]), expand([stego])
        files += clean_files + stego_files
        labels = [None] * (len(files) - len(clean_files) - len(stego_files))
        labels += [0] * len(clean_files) + [1] * len(stego_files)
    if not files:
        raise ExypnoError("nothing to analyze: give image files, folders, or --clean and --stego")
    rows = analyze_files(files, labels, learned)
    if all(r["error"] for r in rows):
        raise ExypnoError(f"none of the {len(rows)} files could be read ({rows[0]['error']})")
    print(f"{'file':<40}" + "".join(f"{k[:13]:>14}" for k in columns) + f"{'verdict':>13}")
    for r in rows:
        name = Path(r["file"]).name[-39:]
        print(f"{name:<40}" + "".join(f"{r[k]:>14.3f}" for k in columns) + f"{verdict(r):>13}")
    for r in rows:
        if r["error"]:
            print(f"unreadable: {r['error']}")
    print(f"(verdict: the structural fusion at threshold {THRESHOLD}; learned columns are P(stego); 'cannot "
          "judge': too few pixels for the structural detectors)")
    labelled = [r for r in rows if r.get("label") is not None and not r["error"]]
    summary = summarize(labelled, columns) if labelled else None
    if summary:
        print(f"\n{'detector':<14}{'AUC':>8}{'detected':>10}{'false alarms':>14}   (flagged at {THRESHOLD}; learned at 0.5)")
        for k, v in summary.items():
            print(f"{k[:13]:<14}{v['auc']:>8.3f}{v['detection_rate']:>10.1%}{v['false_alarm_rate']:>14.1%}")
    write_outputs(labelled or rows, out, summary, columns)
    print(f"wrote {out / 'scores.csv'}" + (f" and {out / 'roc.png'}" if summary else ""))
    return summary
