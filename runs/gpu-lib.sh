# Shared by the lent-GPU round scripts (runs/gpu-2.sh): source it after reading MINUTES and
# OUT_DIR. It sets work (where runs go), py and report, and prints the device.
set -u
mkdir -p "$out"
work=/tmp/gpu-runs
mkdir -p "$work"
py=${PYTHON:-python3}
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD/src PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
report=$out/report.txt
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null | tee "$report"
$py -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" | tee -a "$report"

# wait_runs PID...: wait for the training processes; SIGTERM to them alone if one does not stop on its own
# within MINUTES (it validates, checkpoints and stops; its DataLoader workers share its command line).
wait_runs() {
  (sleep $(( ${minutes%.*} * 60 + 75 )) && kill -TERM "$@" 2>/dev/null) &
  local watchdog=$!
  wait "$@"
  kill $watchdog 2>/dev/null
}

# report_runs RUN...: each run's validations into the report.
report_runs() {
  for run in "$@"; do
    echo "== $run"; grep -E "^step|Error|error" "$work/$run.out" | tail -n 30
  done 2>&1 | tee -a "$report"
}

# tar_runs RUN...: each run's folder (with its checkpoint, about 14 MB) and log as OUT_DIR/RUN.tar.
tar_runs() {
  for run in "$@"; do
    tar -C "$work" -cf "$out/$run.tar" "$run" "$run.out" 2>/dev/null
  done
  ls -la "$out"
}
