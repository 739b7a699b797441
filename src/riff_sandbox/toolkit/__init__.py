"""Pieces every sandbox shares: a document store, fault injection, a request log, webhook delivery,
the ``/_sandbox`` control API, demo data and the app factory that puts them together."""
