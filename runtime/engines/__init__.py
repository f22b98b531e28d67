"""The exported engines on the edge: backends, the file manifest, perception, text, refiner, and their loader."""
