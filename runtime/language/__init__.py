"""What people type, matched against what the engines see: phrases, vocabulary, colour, motion, the matcher.

Sits beside `runtime.summary`: it may use the engines, common and stream, nothing above.
A query is split into phrases, each phrase names a thing vgsum can see (a COCO-80 label,
an ImageNet-1k class of the appearance network, a group such as "vehicle") with optional
colour and motion, and a frame's objects are matched phrase by phrase, not by the
cosine of a whole sentence against a label name.
"""
