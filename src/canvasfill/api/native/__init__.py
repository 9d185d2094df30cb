"""The native API: request schema, translation into a ``Submission``, and the routes."""
