"""canvasfill: self-hosted image expansion (outpainting) and object removal (inpainting).

Python use::

    import canvasfill
    result = canvasfill.expand("photo.jpg", left=0.25, right=0.25)
    result.images[0].save("wide.png")
"""

from canvasfill.errors import CanvasfillError, EngineError, ErrorCode, InputError
from canvasfill.python_api import Result, expand, find_mask, remove

__version__ = "0.1.0"

__all__ = [
    "CanvasfillError",
    "EngineError",
    "ErrorCode",
    "InputError",
    "Result",
    "__version__",
    "expand",
    "find_mask",
    "remove",
]
