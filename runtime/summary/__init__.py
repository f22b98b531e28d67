"""One stream's summary, plain numpy: scene activity, the node ring and windows, fused scores, the highlight rules
(camera events, or shots and a knapsack for edited video), and the stream's queries."""
