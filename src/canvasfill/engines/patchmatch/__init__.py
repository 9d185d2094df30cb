"""The ``patch`` engine's machinery: numba kernels (``kernels``) and the solver (``solver``).

A package rather than plain modules so that the engine registry, which imports every
module of ``canvasfill.engines`` on first use, imports only this docstring: numba and
its compiled kernels load when the first fill (or ``warm_up``) needs them.
"""
