"""The edge program: backends, engines, pipeline, windows, fusion, shots, control, metrics, CLI.

Never imports torch: this package runs on the edge.
"""
