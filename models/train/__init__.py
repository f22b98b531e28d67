"""Training: the one loop for VideoGraph, the peer and the MLP, on the benchmark or on your own footage."""
