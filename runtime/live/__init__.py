"""One stream's live path: what a sampled frame becomes once the engines have seen it.

`LiveStream` owns everything of one stream that lives from frame to frame: the scene's
foreground model, the query match, the shot signature, the thumbnail, the epoch reset
and the stream's summarizer. The daemon's pipeline only batches the engines across
streams and hands each stream its own frames back.
"""
