"""What every runtime layer needs and nothing else: errors, paths, digests, the COCO names, the sample, config files."""
