"""Write the provenance record of the converted detector (run in .venv-tfconv).

Usage: provenance.py ONNX PARITY_JSON OUT_JSON PACKAGE VERSION FILE=SHA256...
"""

import datetime
import hashlib
import json
import platform
import sys
from importlib.metadata import version


def main(onnx_path: str, parity_json: str, out_json: str, package: str, pkg_version: str, *files: str) -> None:
    """Record where the ONNX came from, with which tools, and how close it is to TF."""
    with open(parity_json, encoding="utf-8") as handle:
        parity = json.load(handle)
    with open(onnx_path, "rb") as handle:
        onnx_sha = hashlib.sha256(handle.read()).hexdigest()
    record = {
        "package": package,
        "version": pkg_version,
        "licence": "MIT (package); upstream github.com/610265158/mobilenetv3_centernet has no LICENSE file",
        "source_files": dict(f.split("=", 1) for f in files),
        "onnx_sha256": onnx_sha,
        "onnx_note": "tf2onnx output is not byte-deterministic; pin by parity, not by this hash",
        "tools": {n: version(n) for n in ("tensorflow-cpu", "tf2onnx", "onnx", "onnxruntime", "numpy")}
        | {"python": platform.python_version(), "opset": "17"},
        "script": "export/centernet/convert.sh",
        "parity_tf_vs_onnx": parity,
        "date": datetime.date.today().isoformat(),
    }
    with open(out_json, "w", encoding="utf-8") as handle:
        json.dump(record, handle, indent=2)
        handle.write("\n")


if __name__ == "__main__":
    main(*sys.argv[1:])
