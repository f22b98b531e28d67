"""TensorFlow reference for a converted TF.js graph model, and its parity to the ONNX file.

Runs the original TF.js graph in TensorFlow (run in .venv-tfconv) on real frames and
compares every output with the ONNX conversion in ONNX Runtime. The fused tfjs-only
ops (`_FusedConv2D`, `FusedDepthwiseConv2dNative`) are split back into
Conv2D/DepthwiseConv2dNative -> BiasAdd (-> Relu), because
`FusedDepthwiseConv2dNative` has no TensorFlow kernel; weights stored as float16
are upcast exactly as tfjs does when it loads them.
Usage: tfjs_ref.py MODEL_JSON MODEL_ONNX FRAMES_NPY OUT_JSON
"""

import json
import os
import sys

# oneDNN's fast paths (bf16/AMX on this CPU) moved the heatmap by 2e-3 and the box
# sizes by 9 px; the reference must be plain fp32.
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import tensorflow as tf  # noqa: E402
from google.protobuf import json_format  # noqa: E402

FUSED_ONLY_ATTRS = ("fused_ops", "num_args", "epsilon", "TArgs", "leakyrelu_alpha")
SPLIT = {"_FusedConv2D": "Conv2D", "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative"}


def load_weights(model_json: str, model: dict) -> dict[str, np.ndarray]:
    """Decode the weight shards: float16-quantized entries are upcast, uint8 ones dequantized."""
    base = os.path.dirname(os.path.abspath(model_json))
    weights: dict[str, np.ndarray] = {}
    for group in model["weightsManifest"]:
        blob = b""
        for shard in group["paths"]:
            with open(os.path.join(base, shard), "rb") as handle:
                blob += handle.read()
        offset = 0
        for entry in group["weights"]:
            count = int(np.prod(entry["shape"])) if entry["shape"] else 1
            quant = entry.get("quantization")
            stored = np.dtype(quant["dtype"] if quant else entry["dtype"])
            raw = np.frombuffer(blob, stored, count, offset)
            offset += count * stored.itemsize
            if quant and quant["dtype"] == "uint8":
                raw = raw.astype(np.float32) * quant["scale"] + quant["min"]
            weights[entry["name"]] = raw.astype(entry["dtype"]).reshape(entry["shape"])
    return weights


def split_fused(graph: tf.compat.v1.GraphDef) -> tf.compat.v1.GraphDef:
    """Replace each fused conv node by conv -> BiasAdd (-> Relu); the last keeps the name."""
    out = tf.compat.v1.GraphDef()
    for node in graph.node:
        if node.op not in SPLIT:
            out.node.add().CopyFrom(node)
            continue
        ops = [s.decode() for s in node.attr["fused_ops"].list.s]
        assert ops[0] == "BiasAdd" and set(ops[1:]) <= {"Relu"}, ops
        names = (
            [f"{node.name}/_conv", node.name]
            if len(ops) == 1
            else [f"{node.name}/_conv", f"{node.name}/_bias", node.name]
        )
        conv = out.node.add()
        conv.CopyFrom(node)
        conv.name, conv.op = names[0], SPLIT[node.op]
        del conv.input[2:]
        for attr in FUSED_ONLY_ATTRS:
            if attr in conv.attr:
                del conv.attr[attr]
        bias = out.node.add()
        bias.name, bias.op = names[1], "BiasAdd"
        bias.input.extend([names[0], node.input[2]])
        bias.attr["T"].CopyFrom(node.attr["T"])
        if len(ops) == 2:
            relu = out.node.add()
            relu.name, relu.op = names[2], "Relu"
            relu.input.append(names[1])
            relu.attr["T"].CopyFrom(node.attr["T"])
    return out


def run_tf(model_json: str, frames: np.ndarray) -> dict[str, np.ndarray]:
    """Outputs of the original graph in TensorFlow, one frame at a time (the graph is batch 1)."""
    with open(model_json, encoding="utf-8") as handle:
        model = json.load(handle)
    weights = load_weights(model_json, model)
    graph = json_format.ParseDict(model["modelTopology"], tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    for node in graph.node:
        if node.op == "Const" and node.name in weights:
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(weights[node.name]))
    graph = split_fused(graph)
    names = list(model["signature"]["outputs"])
    results: dict[str, list[np.ndarray]] = {n: [] for n in names}
    with tf.Graph().as_default() as g:
        tf.compat.v1.import_graph_def(graph, name="")
        with tf.compat.v1.Session(graph=g) as session:
            for frame in frames:
                got = session.run([f"{n}:0" for n in names], {"tower_0/images:0": frame[None]})
                for name, value in zip(names, got, strict=True):
                    results[name].append(value)
    return {n: np.concatenate(v) for n, v in results.items()}


def run_onnx(model_onnx: str, frames: np.ndarray) -> dict[str, np.ndarray]:
    """Outputs of the ONNX conversion in ONNX Runtime, one frame at a time."""
    session = ort.InferenceSession(model_onnx, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    feed = session.get_inputs()[0].name
    got = [session.run(names, {feed: frame[None]}) for frame in frames]
    return {n.split(":")[0]: np.concatenate([g[i] for g in got]) for i, n in enumerate(names)}


def main(model_json: str, model_onnx: str, frames_npy: str, out_json: str) -> None:
    """Write the max abs difference per output to `out_json` and print it."""
    frames = np.load(frames_npy).astype(np.float32)
    ref, got = run_tf(model_json, frames), run_onnx(model_onnx, frames)
    report = {"frames": int(len(frames)), "tensorflow": tf.__version__, "onnxruntime": ort.__version__}
    for name, value in ref.items():
        report[f"max_abs_diff[{name}]"] = float(np.abs(value - got[name]).max())
    report["note"] = "detections in pixels of the 512x512 input"
    with open(out_json, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main(*sys.argv[1:5])
