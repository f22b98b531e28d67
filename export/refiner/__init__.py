"""The refiner engines: VideoGraph exported as its two live halves (per frame, per window)."""
