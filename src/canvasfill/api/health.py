"""``/healthz`` (the process answers), ``/readyz`` (it can take work) and ``/metrics``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from canvasfill.api.metrics import CONTENT_TYPE
from canvasfill.api.service import Service, get_service
from canvasfill.jobs.database import is_current

_WRITE_PROBE = text("UPDATE alembic_version SET version_num = version_num WHERE 1 = 0")

router = APIRouter(tags=["operations"])
ServiceDep = Annotated[Service, Depends(get_service)]


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(service: ServiceDep) -> JSONResponse:
    checks = await run_in_threadpool(_checks, service)
    ready = all(checks.values())
    body = {"status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


def _checks(service: Service) -> dict[str, Any]:
    runtime = service.runtime
    checks: dict[str, Any] = {}
    try:
        with runtime.db.begin() as connection:
            # a write that changes nothing: a read-only database (or a replica) fails it
            connection.execute(_WRITE_PROBE)
        checks["database"] = True
        checks["migrations"] = is_current(runtime.db)
    except Exception:
        checks["database"] = checks["migrations"] = False
    checks["blobs"] = runtime.blobs.ready()
    checks["dispatcher"] = service.dispatcher.alive()
    return checks


@router.get("/metrics")
def metrics(service: ServiceDep) -> Response:
    return Response(service.metrics.render(), media_type=CONTENT_TYPE)
