"""Which extra brings which module, so a command whose extra is missing says what to install.

The core (the Python API, ``canvasfill expand``/``remove`` on the classical engines) imports
none of these; the service, the ONNX engines, the distributed mode and the diffusion
engines import theirs when they run. A ``ModuleNotFoundError`` for one of them becomes one
line naming the extra, instead of a traceback that names a module the user never asked for.
"""

from __future__ import annotations

# top-level module → the extra that installs it (pyproject.toml's optional-dependencies)
EXTRA_OF: dict[str, str] = {
    "fastapi": "server",
    "starlette": "server",
    "uvicorn": "server",
    "sqlalchemy": "server",
    "alembic": "server",
    "multipart": "server",
    "python_multipart": "server",
    "prometheus_client": "server",
    "jwt": "server",
    "standardwebhooks": "server",
    "limits": "server",
    "fastapi_offline": "server",
    "onnxruntime": "onnx",
    "psycopg": "postgres",
    "boto3": "s3",
    "botocore": "s3",
    "celery": "distributed",
    "kombu": "distributed",
    "redis": "distributed",
    "torch": "diffusion",
    "diffusers": "diffusion",
    "transformers": "diffusion",
    "accelerate": "diffusion",
    "safetensors": "diffusion",
}

_ALTERNATIVES = {"onnx": " (or 'canvasfill[onnx-gpu]' for CUDA)"}


def install_hint(extra: str) -> str:
    """``pip install 'canvasfill[extra]'``, with the GPU alternative where there is one."""
    return f"pip install 'canvasfill[{extra}]'{_ALTERNATIVES.get(extra, '')}"


def missing_extra(error: ModuleNotFoundError) -> str | None:
    """The one-line message for a module an extra brings, or None for any other module."""
    module = (error.name or "").split(".")[0]
    extra = EXTRA_OF.get(module)
    if extra is None:
        return None
    return f"this needs the {extra} extra ({module} is not installed): {install_hint(extra)}"
