"""Make a TF.js graph-model JSON importable by current TensorFlow (run in .venv-tfconv).

tfjs-converter drops attributes that TF 2.21 now requires:
- `TArgs` on the fused conv/matmul nodes (`NodeDef missing attr 'TArgs'`);
- attributes added to ops after the model was converted (`KeyError: 'index_type'`
  on TopKV2): each missing one is filled from the op's registered default.
The weight shards are copied beside the patched JSON.
Usage: patch_tfjs.py SRC_MODEL_JSON DST_MODEL_JSON
"""

import json
import os
import shutil
import sys

from google.protobuf import json_format
from tensorflow.python.framework import op_def_registry

FUSED_OPS = ("_FusedConv2D", "FusedDepthwiseConv2dNative", "_FusedMatMul")


def patch(src: str, dst: str) -> None:
    """Write the patched model JSON to `dst` and copy its weight files."""
    with open(src, encoding="utf-8") as handle:
        model = json.load(handle)
    for node in model["modelTopology"]["node"]:
        attrs = node.setdefault("attr", {})
        if node["op"] in FUSED_OPS and "TArgs" not in attrs:
            count = int(attrs.get("num_args", {}).get("i", "0"))
            attrs["TArgs"] = {"list": {"type": [attrs.get("T", {}).get("type", "DT_FLOAT")] * count}}
        op_def = op_def_registry.get(node["op"])
        if op_def is None:
            continue
        for attr_def in op_def.attr:
            if attr_def.name not in attrs and attr_def.HasField("default_value"):
                attrs[attr_def.name] = json_format.MessageToDict(attr_def.default_value)
    out_dir = os.path.dirname(os.path.abspath(dst))
    os.makedirs(out_dir, exist_ok=True)
    with open(dst, "w", encoding="utf-8") as handle:
        json.dump(model, handle)
    src_dir = os.path.dirname(os.path.abspath(src))
    for group in model["weightsManifest"]:
        for path in group["paths"]:
            shutil.copy(os.path.join(src_dir, path), os.path.join(out_dir, path))


if __name__ == "__main__":
    patch(sys.argv[1], sys.argv[2])
