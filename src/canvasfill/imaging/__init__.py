"""Decode, validate and encode images; plan canvases; composite fills.

Submodules, one idea each: ``limits`` (what each door accepts), ``decode``,
``masks``, ``geometry`` (any request to canvas + offset + fill mask),
``composite`` and ``encode``.
"""
