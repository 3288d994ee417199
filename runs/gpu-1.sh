#!/usr/bin/env bash
# Session 8's one lent-GPU round (the tool gave an NVIDIA H200; 15 minutes of device time in all): four training runs side by
# side on the one GPU, each fed by its own DataLoader workers, then every run's best model measured on the
# held-out photos with benchmarks/heldout_quick.py. Run from the repository root:
#
#   bash runs/gpu-1.sh MINUTES OUT_DIR
#
# It expects data/photos (scripts/install-media) and gpu-init/ holding the two starting models
# (runs/default-3/best.* and runs/robust/best.*, copied there because runs/ does not travel).
# OUT_DIR gets report.txt and a tar per run (7 files: the device gives back 8 at most, 16 MiB each); the
# paper model's weights come back as two fp16 halves, too large for one file.
set -u
minutes=${1:-7}
out=${2:-/tmp/gpu-out}
mkdir -p "$out"
work=/tmp/gpu-runs
mkdir -p "$work"
export PYTHONPATH=$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
py=${PYTHON:-python3}
report=$out/report.txt
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | tee "$report"
$py -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$report"

pids=()
common=(--data data/photos --steps 1000000 --max-minutes "$minutes" --quiet --threads 2)
# Stage 4 of the default (image in image): from default-3's best, 128x128 crops, batches of 32; A sees
# photos down to 0.15 of their size (the held-out photos are whole photos scaled to 256), B down to 0.3.
$py -m exypno train "${common[@]}" --out $work/default-4a --init gpu-init/default-3.safetensors --crop 128 \
  --batch 32 --lr 3e-4 --lr-warmup 300 --beta 2.0 --min-scale 0.15 --cover-target 39.0 --val-every 500 --noise 0.25 \
  --workers 3 >"$work/default-4a.out" 2>&1 &
pids+=($!)
$py -m exypno train "${common[@]}" --out $work/default-4b --init gpu-init/default-3.safetensors --crop 128 \
  --batch 32 --lr 3e-4 --lr-warmup 300 --beta 2.0 --min-scale 0.3 --cover-target 39.0 --val-every 500 --noise 0.25 \
  --workers 3 >"$work/default-4b.out" 2>&1 &
pids+=($!)
# The robust model (#7): from runs/robust's best, the same noise layers (real JPEG forward, the
# differentiable approximation's gradient), validated after JPEG 90.
$py -m exypno train "${common[@]}" --out $work/robust-2 --init gpu-init/robust.safetensors --crop 128 \
  --batch 32 --lr 2e-4 --lr-warmup 300 --beta 2.0 --min-scale 0.3 --cover-target 35.0 --val-jpeg 90 --val-every 500 \
  --noise 'djpeg:60-95,djpeg:85-95,identity' --workers 3 >"$work/robust-2.out" 2>&1 &
pids+=($!)
# The paper's own networks (preset paper, ~10 M parameters), from scratch with its loss (alpha 1, beta 0.75)
# and Gaussian noise layer; Adam at 1e-4 (the paper's 1e-5 would learn little in minutes).
$py -m exypno train "${common[@]}" --out $work/paper --preset paper --crop 96 --batch 12 --lr 1e-4 \
  --val-every 250 --noise 0.25 --workers 2 >"$work/paper.out" 2>&1 &
pids+=($!)
# A watchdog in case a run does not stop on its own. SIGTERM to the training process alone: it validates,
# checkpoints and stops (its DataLoader workers share its command line, so no pkill -f).
(sleep $(( ${minutes%.*} * 60 + 75 )) && kill -TERM "${pids[@]}" 2>/dev/null) &
watchdog=$!
wait "${pids[@]}"
kill $watchdog 2>/dev/null
for run in default-4a default-4b robust-2 paper; do
  echo "== $run"; grep -E "^step|Error|error" "$work/$run.out" | tail -n 30
done 2>&1 | tee -a "$report"
models=()
for run in default-4a default-4b robust-2 paper; do
  [ -f "$work/$run/best.safetensors" ] && models+=("$work/$run/best.safetensors")
done
$py benchmarks/heldout_quick.py "${models[@]}" --jpeg 90 --jpeg 75 --out "$work/heldout_quick.json" 2>&1 \
  | tee -a "$report"
for run in default-4a default-4b; do  # the candidates to ship: with their checkpoints, to resume
  tar -C "$work" -cf "$out/$run.tar" "$run" "$run.out" 2>/dev/null
done
tar -C "$work" -cf "$out/robust-2.tar" robust-2/best.safetensors robust-2/best.json robust-2/log.jsonl \
  robust-2.out 2>/dev/null
if [ -f "$work/paper/best.safetensors" ]; then
  $py - "$work/paper" <<'EOF'
import sys
from pathlib import Path
import torch
from safetensors.torch import load_file, save_file
run = Path(sys.argv[1])
t = {k: v.half() for k, v in load_file(str(run / "best.safetensors")).items()}
keys = sorted(t)
half = len(keys) // 2
save_file({k: t[k] for k in keys[:half]}, str(run / "best-fp16-1.safetensors"))
save_file({k: t[k] for k in keys[half:]}, str(run / "best-fp16-2.safetensors"))
EOF
  cp "$work/paper/best-fp16-1.safetensors" "$work/paper/best-fp16-2.safetensors" "$out/" 2>/dev/null
fi
tar -C "$work" -cf "$out/paper.tar" paper/log.jsonl paper/best.json paper.out heldout_quick.json 2>/dev/null
ls -la "$out"
