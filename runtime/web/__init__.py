"""The history page: one HTML page and a JSON API over the store, served by the daemon.

`server` binds the HTTP port and routes requests, `api` answers the JSON questions
through `StoreReader`, `files` sends clips and thumbnails (with HTTP Range, which
browsers need to play and seek an MP4), `auth` holds the token rule, `live` the
server-sent events, `recaps` the Recap action (what it needs of a recap service, which
the daemon hands in, and the request it reads), `static/` the page itself (no build
step, nothing fetched from the internet).
"""
