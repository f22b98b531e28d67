"""The day in minutes: a short video of a stream's stored history, chosen by a knapsack within a time budget.

`budget` reads how long the recap may be; `parts` turns stored highlights into
candidate parts (the best-scored stretch of each clip, cut on keyframes);
`novelty` and `selection` value them (score, query match, novelty) and pick with
the knapsack; `video` writes the MP4 with chapters and captions; `build` puts it
together for the CLI; `jobs` makes recaps one at a time in the background for the
page and the daemon's daily recap.
"""
