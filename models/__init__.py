"""The PyTorch VideoGraph model, losses, datasets, benchmark protocol, training and evaluation."""
