"""The HTTP service: FastAPI app, doors (declared in ``door.py``, run by ``handler.py``),
auth, body reading, signed files, SSE, health and metrics.

Each door module (``native/door.py``, ``dialects/*.py``) declares and registers its door:
routes, auth scheme, body, ``parse`` and renderers. ``app.py`` installs every registered
door through the one handler.
"""
