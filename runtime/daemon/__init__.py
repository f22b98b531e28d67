"""The daemon: config, services (ingest, summary), the pipeline thread, publisher, control socket, CurveZMQ, metrics."""
