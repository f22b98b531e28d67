"""The daemon's history: an embedded SQLite database of highlights, stream states and final scores.

`schema` owns the tables and their migrations, `reader` every query the CLI, the
control socket and the web page make. Only the daemon writes. With `store.url`
the same tables live in PostgreSQL (`postgres`: the connection that speaks the
store's SQL there), which several daemons may share.
"""
