"""Vendor dialects: each module translates one hosted API to and from canvasfill's core.

A dialect module defines ``install(app: FastAPI) -> None`` and is found and installed by
``api.app`` (no list of dialects anywhere). It adds its routes, and it may:

- authenticate with ``api.auth.authorize(service, token)`` using its own header;
- parse the request into a ``JobSpec`` and call ``jobs.accept.accept`` with a
  ``Submission(dialect=NAME, external_id=..., meta=..., notify_on=...)``, then
  ``service.dispatcher.submit(task.id)``;
- render tasks from the ``jobs.models.Task`` record (``api.render.result_views`` gives
  the signed result URLs) and register ``api.render.register_callback_renderer(NAME,
  fn)`` so callbacks arrive in its shape;
- render errors in its shape with ``api.errors.register_error_renderer(app, PREFIX, fn)``,
  which receives the same ``ErrorInfo`` (status, code, message, field) for every error.
"""
