"""The daemon's history: an embedded SQLite database of highlights, stream states and final scores.

`schema` owns the tables and their migrations, `reader` every query the CLI, the
control socket and the web page make. Only the daemon writes.
"""
