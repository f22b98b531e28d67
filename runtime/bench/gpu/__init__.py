"""`vgsum bench gpu`: the GPU path (TensorRT plans, onnxruntime-gpu) measured in one bounded run.

One run writes DIR/report.json (every figure, and every skip with its reason) and
DIR/summary.txt (the same on one page):

1. environment: driver, CUDA, TensorRT and onnxruntime(-gpu) versions, the GPU, ONNX Runtime's providers;
2. plans: TensorRT plans of the perception, text and refiner engines at FP16 and INT8, built by
   `vgsum.export.trt` (INT8 calibrated by its own code on frames of the bundled sample, or on
   sentences), with each build's time and whether the engine cache already held it;
3. parity of each plan and of onnxruntime-gpu against ONNX Runtime CPU on real frames of the
   bundled sample: detections, scores, features, sentence embeddings, node vectors, window
   scores (the tolerances are written into the report);
4. perception throughput and latency at batch 1, 8, 32 and 64 for each backend;
5. the engine cache on a second start (plan lookup and deserialisation, session loads);
6. the live pipeline with N looped copies of the sample as live streams at 2 fps, N = 1, 2, 4...
   until frames drop, and what limits it (decode on CPU, perception, refiner, Python).

Why one script: GPU machines are lent for minutes, so the whole path runs in one prepared call.
Each stage checks the time left against --time-limit-s before it starts and records
"skipped: time limit" rather than run over; what is not installed (no tensorrt module, no CUDA
provider) is recorded as skipped with the reason; a stage that breaks records its error in one
line and the other stages still run, so one run shows everything that needs fixing. The exit
code is 1 when a stage broke, 2 for a bad argument, else 0.

--cpu is the dry run that CI takes: ONNX Runtime CPU compared with itself under another thread
count and graph optimisation level, batch 1 and 8, two streams for a few seconds; the GPU
stages say why they were skipped. Nothing is written into the engine folder then; on a GPU the
plans go into its `trt-cache/`, as `vgsum export --format trt` puts them.

Install on the GPU machine, from PyPI by name (this script installs and downloads nothing):

    pip uninstall -y onnxruntime && pip install onnxruntime-gpu 'tensorrt>=10,<11' cuda-python

`onnxruntime` and `onnxruntime-gpu` ship the same module, so only one may be installed;
`vgsum.export.trt` keeps to the TensorRT 10 API.

The modules, one stage each: `environment`, `plans` (calibration inputs and TensorRT builds),
`parity`, `throughput`, `startup` (the second start), `live` and `bottleneck` (the streams),
`candidates` (the ways of running the engines), `budget` and `outcome` (time limit and per-stage
results), `report` (the summary page) and `cli` (`main(argv)`, the run in order).
"""
