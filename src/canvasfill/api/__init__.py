"""The HTTP service: FastAPI app, auth, native routes, signed files, health and metrics.

Dialects (``api/dialects/``) parse their requests into a ``JobSpec``, hand it to
``jobs.accept`` like the native routes do, and render tasks and errors in their own
shape through the registries in ``api.render`` and ``api.errors``.
"""
