"""What a run leaves behind for people: the report files and the timeline picture, and the frame thumbnails."""
