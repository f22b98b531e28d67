"""Build the fused `perception` ONNX graph: letterbox -> CenterNet + EfficientNet -> boxes and features.

One graph, batch dynamic, frame size dynamic:

    frames uint8 [B,H,W,3]
      -> float NCHW, letterbox into the detector canvas (antialiased resize, zero pad bottom/right)
      -> CenterNet trunk (heatmap, box sides)  -> peaks (3x3 max) -> top K -> boxes
      -> class-aware NMS (iterated matrix NMS, batch-wise) -> top N above the score threshold
      -> EfficientNet-Lite0 on the canvas resized to its own size -> pooled frame feature
      -> RoiAlign of the N boxes on the stride-16 and stride-32 maps -> object features

Everything past the first N real objects is zero; `object_count` says how many are real.
Outputs: boxes [B,N,4] (x1,y1,x2,y2 normalised to the frame), classes [B,N] int64,
scores [B,N], object_features [B,N,D], object_count [B] int64, frame_feature [B,1280].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FRAMES = "frames"
OUTPUTS = ("boxes", "classes", "scores", "object_features", "object_count", "frame_feature")


@dataclass(frozen=True)
class PerceptionConfig:
    """Sizes and thresholds baked into the engine (recorded in its sidecar)."""

    det_width: int = 448  # detector canvas, about 16:9 so camera frames fill it (see BENCHMARKS)
    det_height: int = 256
    eff_width: int = 320  # appearance canvas (the detector canvas resized; multiples of 32)
    eff_height: int = 192
    top_n: int = 16
    candidates: int = 100  # heatmap peaks considered before NMS (as in the original graph)
    score_threshold: float = 0.25
    iou_threshold: float = 0.5
    nms_rounds: int = 3  # matrix-NMS iterations; 3 equals greedy NMS for chains up to 3 boxes
    roi_size: int = 2
    opset: int = 18


class _Graph:
    """A tiny helper to append nodes and constants with unique names."""

    def __init__(self) -> None:
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def name(self, hint: str) -> str:
        self._count += 1
        return f"pp/{hint}_{self._count}"

    def const(self, value, dtype=np.int64, hint: str = "c") -> str:
        from onnx import numpy_helper

        name = self.name(hint)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], hint: str | None = None, outputs: int = 1, out=None, **attrs):
        from onnx import helper

        names = out if out is not None else [self.name(hint or op_type.lower()) for _ in range(outputs)]
        names = [names] if isinstance(names, str) else list(names)
        self.nodes.append(helper.make_node(op_type, inputs, names, name=self.name(op_type), **attrs))
        return names[0] if len(names) == 1 else names


def _inline(graph: _Graph, model, prefix: str, feeds: dict[str, str]) -> dict[str, str]:
    """Append `model`'s nodes with prefixed names, its inputs fed from `feeds`; return its outputs' new names."""
    from onnx import compose

    prefixed = compose.add_prefix(model, prefix)
    for original, source in feeds.items():
        graph.op("Identity", [source], out=prefix + original)
    graph.nodes.extend(prefixed.graph.node)
    graph.initializers.extend(prefixed.graph.initializer)
    return {out.name[len(prefix) :]: out.name for out in prefixed.graph.output}


def build_perception_model(trunk, effnet, cfg: PerceptionConfig):
    """The fused ModelProto from the detector trunk and the EfficientNet export.

    Also returns the names of inner tensors (canvas, heatmap, feature maps...) so that the
    parity check can expose them and compare each stage with its reference.
    """
    import onnx
    from onnx import TensorProto, helper

    from vgsum.export.perception.parts import CENTERNET_HEAT, CENTERNET_STRIDE, CENTERNET_WH

    g = _Graph()
    f32 = np.float32

    # -- letterbox: frames [B,H,W,3] uint8 -> canvas [B,3,CH,CW] float 0..255
    x = g.op("Cast", [FRAMES], to=TensorProto.FLOAT)
    x = g.op("Transpose", [x], perm=[0, 3, 1, 2])
    shape = g.op("Shape", [FRAMES])
    hw_in = g.op("Cast", [g.op("Slice", [shape, g.const([1]), g.const([3])])], to=TensorProto.FLOAT)  # [H,W]
    canvas_hw = g.const([cfg.det_height, cfg.det_width], f32)
    scale = g.op("ReduceMin", [g.op("Div", [canvas_hw, hw_in])], keepdims=1)  # [1]
    content_hw = g.op("Floor", [g.op("Add", [g.op("Mul", [hw_in, scale]), g.const([0.5, 0.5], f32)])])
    content_hw = g.op("Min", [content_hw, canvas_hw])
    sizes = g.op("Cast", [content_hw], to=TensorProto.INT64)
    resized = g.op(
        "Resize",
        [x, "", "", sizes],
        axes=[2, 3],
        mode="linear",
        antialias=1,
        coordinate_transformation_mode="half_pixel",
    )
    pad_hw = g.op("Sub", [g.const([cfg.det_height, cfg.det_width]), sizes])
    pads = g.op("Concat", [g.const([0, 0]), pad_hw], axis=0)  # begin H,W = 0; end H,W = rest
    canvas = g.op("Pad", [resized, pads, g.const(0.0, f32), g.const([2, 3])], hint="canvas", mode="constant")

    # -- detector trunk
    det = _inline(g, trunk, "det/", {trunk.graph.input[0].name: canvas})
    heat, wh = det[CENTERNET_HEAT], det[CENTERNET_WH]

    # -- decode: peaks, top K, boxes in canvas pixels
    hmax = g.op("MaxPool", [heat], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    peaks = g.op("Mul", [heat, g.op("Cast", [g.op("Equal", [heat, hmax])], to=TensorProto.FLOAT)])
    flat = g.op("Reshape", [peaks, g.const([0, -1])])
    top_scores, top_index = g.op("TopK", [flat, g.const([cfg.candidates])], outputs=2, axis=1, largest=1, sorted=1)
    heat_shape = g.op("Shape", [heat])
    area = g.op("ReduceProd", [g.op("Slice", [heat_shape, g.const([2]), g.const([4])])], keepdims=1)
    width = g.op("Slice", [heat_shape, g.const([3]), g.const([4])])
    cls = g.op("Div", [top_index, area])
    pos = g.op("Mod", [top_index, area])
    cy = g.op("Mul", [g.op("Cast", [g.op("Div", [pos, width])], to=TensorProto.FLOAT), g.const(CENTERNET_STRIDE, f32)])
    cx = g.op("Mul", [g.op("Cast", [g.op("Mod", [pos, width])], to=TensorProto.FLOAT), g.const(CENTERNET_STRIDE, f32)])
    sides = g.op(
        "GatherElements",
        [
            g.op("Reshape", [wh, g.const([0, 4, -1])]),
            g.op("Tile", [g.op("Unsqueeze", [pos, g.const([1])]), g.const([1, 4, 1])]),
        ],
        axis=2,
    )  # [B,4,K]: left, top, right, bottom distances
    sides = g.op("Transpose", [sides], perm=[0, 2, 1])
    centres = g.op("Concat", [g.op("Unsqueeze", [v, g.const([2])]) for v in (cx, cy, cx, cy)], axis=2)
    boxes_k = g.op("Add", [centres, g.op("Mul", [sides, g.const([-1, -1, 1, 1], f32)])])  # [B,K,4]
    content_xyxy = g.op(
        "Concat",
        [
            g.op("Slice", [content_hw, g.const([1]), g.const([2])]),
            g.op("Slice", [content_hw, g.const([0]), g.const([1])]),
        ],
        axis=0,
    )
    content_xyxy = g.op("Concat", [content_xyxy, content_xyxy], axis=0)  # [W',H',W',H']
    boxes_k = g.op("Max", [g.op("Min", [boxes_k, content_xyxy]), g.const(0.0, f32)])

    # -- class-aware NMS, all pairs at once (candidates are sorted by score)
    x1, y1, x2, y2 = (g.op("Slice", [boxes_k, g.const([i]), g.const([i + 1]), g.const([2])]) for i in range(4))
    box_area = g.op("Mul", [g.op("Sub", [x2, x1]), g.op("Sub", [y2, y1])])  # [B,K,1]

    def pair(a: str, reduce: str) -> str:
        return g.op(reduce, [a, g.op("Transpose", [a], perm=[0, 2, 1])])  # [B,K,K]

    inter_w = g.op("Relu", [g.op("Sub", [pair(x2, "Min"), pair(x1, "Max")])])
    inter_h = g.op("Relu", [g.op("Sub", [pair(y2, "Min"), pair(y1, "Max")])])
    inter = g.op("Mul", [inter_w, inter_h])
    union = g.op("Sub", [g.op("Add", [box_area, g.op("Transpose", [box_area], perm=[0, 2, 1])]), inter])
    iou = g.op("Div", [inter, g.op("Max", [union, g.const(1e-6, f32)])])
    cls_col = g.op("Unsqueeze", [cls, g.const([2])])
    same = g.op("Equal", [cls_col, g.op("Transpose", [cls_col], perm=[0, 2, 1])])
    higher = np.triu(np.ones((cfg.candidates, cfg.candidates), bool), k=1)  # [i,j]: i scored above j
    overlap = g.op(
        "And", [g.op("And", [g.op("Greater", [iou, g.const(cfg.iou_threshold, f32)]), same]), g.const(higher, bool)]
    )
    overlap = g.op("Cast", [overlap], to=TensorProto.FLOAT)
    valid = g.op("Cast", [g.op("Greater", [top_scores, g.const(cfg.score_threshold, f32)])], to=TensorProto.FLOAT)
    keep = valid
    for _ in range(cfg.nms_rounds):
        by_kept = g.op("Mul", [overlap, g.op("Unsqueeze", [keep, g.const([2])])])
        suppressed = g.op("ReduceMax", [by_kept, g.const([1])], keepdims=0)
        keep = g.op("Mul", [valid, g.op("Sub", [g.const(1.0, f32), suppressed])])

    # -- top N kept, padded with zeros
    ranked = g.op("Sub", [g.op("Mul", [keep, g.op("Add", [top_scores, g.const(1.0, f32)])]), g.const(1.0, f32)])
    best, pick = g.op("TopK", [ranked, g.const([cfg.top_n])], outputs=2, axis=1, largest=1, sorted=1)
    real = g.op("Cast", [g.op("Greater", [best, g.const(0.0, f32)])], to=TensorProto.FLOAT)  # [B,N]
    g.op("Cast", [g.op("ReduceSum", [real, g.const([1])], keepdims=0)], to=TensorProto.INT64, out="object_count")
    g.op("Mul", [best, real], out="scores")
    real_i = g.op("Cast", [real], to=TensorProto.INT64)
    g.op("Mul", [g.op("GatherElements", [cls, pick], axis=1), real_i], out="classes")
    pick4 = g.op("Tile", [g.op("Unsqueeze", [pick, g.const([2])]), g.const([1, 1, 4])])
    real3 = g.op("Unsqueeze", [real, g.const([2])])
    boxes_px = g.op("Mul", [g.op("GatherElements", [boxes_k, pick4], axis=1), real3])  # canvas pixels
    frame_xyxy = g.op(
        "Mul",
        [
            g.op(
                "Concat",
                [
                    g.op("Slice", [hw_in, g.const([1]), g.const([2])]),
                    g.op("Slice", [hw_in, g.const([0]), g.const([1])]),
                ],
                axis=0,
            ),
            scale,
        ],
    )
    frame_xyxy = g.op("Concat", [frame_xyxy, frame_xyxy], axis=0)
    g.op("Min", [g.op("Div", [boxes_px, frame_xyxy]), g.const(1.0, f32)], out="boxes")

    # -- appearance: EfficientNet on the canvas, ROI features of the N boxes
    eff_in = canvas
    if (cfg.eff_height, cfg.eff_width) != (cfg.det_height, cfg.det_width):
        eff_in = g.op(
            "Resize",
            [canvas, "", "", g.const([cfg.eff_height, cfg.eff_width])],
            axes=[2, 3],
            mode="linear",
            antialias=1,
            coordinate_transformation_mode="half_pixel",
        )
    eff = _inline(g, effnet, "eff/", {effnet.graph.input[0].name: eff_in})
    g.op("Identity", [eff["eff_pooled"]], out="frame_feature")
    to_eff = g.const([cfg.eff_width / cfg.det_width, cfg.eff_height / cfg.det_height] * 2, f32)
    rois = g.op("Reshape", [g.op("Mul", [boxes_px, to_eff]), g.const([-1, 4])])
    batch = g.op("Slice", [shape, g.const([0]), g.const([1])])
    batch_index = g.op("Range", [g.const(0), g.op("Squeeze", [batch]), g.const(1)])
    batch_index = g.op(
        "Reshape",
        [g.op("Tile", [g.op("Unsqueeze", [batch_index, g.const([1])]), g.const([1, cfg.top_n])]), g.const([-1])],
    )
    pooled = []
    for fmap, stride in ((eff["eff_fmap16"], 16), (eff["eff_fmap32"], 32)):
        roi = g.op(
            "RoiAlign",
            [fmap, rois, batch_index],
            mode="avg",
            output_height=cfg.roi_size,
            output_width=cfg.roi_size,
            sampling_ratio=2,
            spatial_scale=1.0 / stride,
            coordinate_transformation_mode="half_pixel",
        )
        pooled.append(g.op("Flatten", [g.op("GlobalAveragePool", [roi])], axis=1))
    features = g.op("Concat", pooled, axis=1)  # [B*N, D]
    features = g.op("Reshape", [features, g.const([-1, cfg.top_n, object_feature_dim()])])
    g.op("Mul", [features, real3], out="object_features")

    n, d = cfg.top_n, object_feature_dim()
    graph = helper.make_graph(
        g.nodes,
        "perception",
        [helper.make_tensor_value_info(FRAMES, TensorProto.UINT8, ["batch", "height", "width", 3])],
        [
            helper.make_tensor_value_info("boxes", TensorProto.FLOAT, ["batch", n, 4]),
            helper.make_tensor_value_info("classes", TensorProto.INT64, ["batch", n]),
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", n]),
            helper.make_tensor_value_info("object_features", TensorProto.FLOAT, ["batch", n, d]),
            helper.make_tensor_value_info("object_count", TensorProto.INT64, ["batch"]),
            helper.make_tensor_value_info("frame_feature", TensorProto.FLOAT, ["batch", 1280]),
        ],
        initializer=g.initializers,
    )
    opsets = {imp.domain: imp.version for imp in effnet.opset_import}
    opsets[""] = cfg.opset
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid(k, v) for k, v in opsets.items()], producer_name="vgsum"
    )
    model.ir_version = min(effnet.ir_version, 10)
    model.functions.extend(effnet.functions)
    onnx.checker.check_model(model, full_check=True)
    taps = {
        "canvas": canvas,
        "content_hw": content_hw,
        "eff_input": eff_in,
        "heat": heat,
        "wh": wh,
        "fmap16": eff["eff_fmap16"],
        "fmap32": eff["eff_fmap32"],
    }
    return model, taps


def object_feature_dim() -> int:
    """EfficientNet stride-16 channels + head channels, each ROI-pooled."""
    from vgsum.export.perception.parts import EFFNET_HEAD_CHANNELS, EFFNET_STRIDE16_CHANNELS

    return EFFNET_STRIDE16_CHANNELS + EFFNET_HEAD_CHANNELS
