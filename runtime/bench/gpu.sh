#!/usr/bin/env bash
# `vgsum bench gpu` for one call on a lent GPU machine: a hard wall-clock cap over the script's
# own time limit (a TensorRT build cannot be stopped half way; report.json, saved after every
# stage, keeps what finished), and the log and nvidia-smi's view kept beside the report.
# It installs nothing: the pip line is in runtime/bench/gpu/__init__.py's docstring and BENCHMARKS.md.
#
# usage: runtime/bench/gpu.sh OUT_DIR [vgsum bench gpu options: --engines DIR, --streams-max N, --cpu]
#        VGSUM_GPU_LIMIT_S (default 480) is the script's time limit; the cap is 60 s more.
set -uo pipefail

if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
    echo "usage: runtime/bench/gpu.sh OUT_DIR [vgsum bench gpu options]" >&2
    exit 2
fi
out=$1
shift
limit=${VGSUM_GPU_LIMIT_S:-480}
python=${PYTHON:-python3}

if ! "$python" -c "import vgsum.runtime.bench.gpu.cli" 2>/dev/null; then
    echo "gpu.sh: $python cannot import vgsum; install the project first (pip install -e .)" >&2
    exit 2
fi
mkdir -p "$out" || exit 2
if command -v nvidia-smi >/dev/null; then
    nvidia-smi >"$out/nvidia-smi.txt" 2>&1
fi

PYTHONUNBUFFERED=1 timeout --kill-after=10 "$((${limit%.*} + 60))" \
    "$python" -m vgsum.runtime.cli bench gpu --out "$out" --time-limit-s "$limit" "$@" 2>&1 | tee "$out/log.txt"
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "gpu.sh: stopped at the hard cap; $out/report.json holds the stages that finished" >&2
fi
exit "$rc"
