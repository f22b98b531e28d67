"""What the models learn from: the TVSum/SumMe pack, perception features of video files, titles, event annotations
and the long camera-like streams built from them."""
