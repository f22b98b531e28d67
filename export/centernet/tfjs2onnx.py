"""Run tf2onnx's converter on a TF.js graph model under NumPy 2 (run in .venv-tfconv).

tf2onnx 1.17.0's tfjs reader still calls `np.product`, which NumPy 2 removed; this
shim restores the alias and then hands the command line to `tf2onnx.convert`.
Usage: tfjs2onnx.py --tfjs model.json --output model.onnx --opset 17
"""

import runpy
import sys

import numpy as np

if not hasattr(np, "product"):
    np.product = np.prod

sys.argv = ["tf2onnx.convert", *sys.argv[1:]]
runpy.run_module("tf2onnx.convert", run_name="__main__")
