"""Evaluation: the benchmark protocol and its reports (table, streaming, KTS, graphs, validation) and the events
benchmark on real footage."""
