"""``/healthz`` (the process answers), ``/readyz`` (it can take work) and ``/metrics``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from canvasfill import __version__
from canvasfill.api.metrics import CONTENT_TYPE
from canvasfill.api.readiness import Readiness
from canvasfill.api.service import Service, get_service

router = APIRouter(tags=["operations"])
ServiceDep = Annotated[Service, Depends(get_service)]


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness, answered on the event loop itself (no thread pool): a busy pool cannot
    make a live process look dead. The version tells a rolling upgrade which nodes run
    what."""
    return {"status": "ok", "version": __version__}


@router.get("/readyz")
async def readyz(request: Request, service: ServiceDep) -> JSONResponse:
    """Each dependency answers within ``ready_timeout_s`` or counts as down
    (``api/readiness.py``): the probe itself never hangs on one."""
    readiness: Readiness = request.app.state.readiness
    body = await run_in_threadpool(readiness.probe, service)
    ready = all(body["checks"].values())
    body = {"status": "ready" if ready else "not ready", **body}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics(service: ServiceDep) -> Response:
    return Response(service.metrics.render(), media_type=CONTENT_TYPE)
