"""``GET /v1/engines``: what this host can run, what each engine honours, and the default.

The playground's engine picker reads it, and so can any client that wants to show only
the parameters that change a result.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from canvasfill.api.auth import require_key
from canvasfill.api.service import Service, get_service
from canvasfill.engines.base import Engine, FillParams, Operation
from canvasfill.engines.registry import AUTO, all_engines, choose_engine
from canvasfill.errors import CanvasfillError
from canvasfill.jobs.tables import ApiKey

router = APIRouter(prefix="/v1", tags=["native"])

Caller = Annotated[ApiKey, Depends(require_key)]
ServiceDep = Annotated[Service, Depends(get_service)]


def engine_view(engine: Engine) -> dict[str, Any]:
    """One engine as the API shows it: availability is asked now, so it is current."""
    availability = engine.availability()
    return {
        "name": engine.name,
        "summary": engine.summary,
        "available": availability.available,
        "reason": None if availability.available else availability.reason,
        "hardware": engine.hardware.value,
        "weights": list(engine.weights),
        "honours": {
            operation.value: sorted(param.value for param in engine.honoured(operation))
            for operation in Operation
        },
    }


def auto_choice(operation: Operation, default: str) -> str | None:
    """The engine ``auto`` picks for a request with no prompt, the operator's ``default``
    applied; None when none can run."""
    params = FillParams(seed=1, operation=operation)
    try:
        return choose_engine(AUTO, operation, params, default=default).name
    except CanvasfillError:
        return None


@router.get("/engines", summary="List engines")
def list_engines(key: Caller, service: ServiceDep) -> dict[str, Any]:
    """Every registered engine: available here or why not, what it honours, its hardware.

    ``default`` is the engine a request without ``engine`` gets (``auto``: chosen per
    request); ``auto`` says what ``auto`` picks for each operation without a prompt.
    """
    return {
        "object": "list",
        "default": service.runtime.settings.default_engine or AUTO,
        "auto": {
            operation.value: auto_choice(operation, service.runtime.settings.default_engine)
            for operation in Operation
        },
        "data": [engine_view(engine) for engine in all_engines()],
    }
