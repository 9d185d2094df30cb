"""Engines behind one interface (``base.Engine``), found through ``registry``.

Every module in this package is imported by the registry on first use; a module
that defines an engine registers it with ``@register``.
"""
