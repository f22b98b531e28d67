"""`vgsum export imagenet`: the ImageNet-1k classifier of the appearance network, for the language layer."""
