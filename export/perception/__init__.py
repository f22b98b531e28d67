"""The perception engine: CenterNet and EfficientNet-Lite0 fused into one ONNX graph, checked stage by stage."""
