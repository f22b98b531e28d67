"""Torch to ONNX export with parity checks, TensorRT builder, engine sidecars."""
