"""Live I/O: sources, sampling, queues, stream state, message schemas, ZeroMQ publish/subscribe.

Never imports torch: this package runs on the edge.
"""
