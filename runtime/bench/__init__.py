"""The benchmarks behind `vgsum bench` (ingest, pipeline, shots, gpu): real video, real engines, one table each."""
