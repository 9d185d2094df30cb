"""docker-compose.yml and the Dockerfile, read as data (no Docker engine runs in tests):
the shape issue 12 asks for, commands that exist, and settings names that exist."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from canvasfill.settings import Settings

ROOT = Path(__file__).parent.parent
SERVICES = {"api-1", "api-2", "worker", "postgres", "redis", "seaweedfs"}
PENDING_SETTINGS = {"broker_url"}
"""Settings the dispatch half of issue 12 adds (the Celery broker); drop once it lands."""


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_shape_is_two_api_nodes_a_worker_and_the_three_stores(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    for name in ("api-1", "api-2"):
        assert services[name]["command"][:2] == ["canvasfill", "serve"]
        assert services[name]["build"] == "."
        assert "healthcheck" in services[name]
    assert services["worker"]["command"] == ["canvasfill", "worker", "--queues", "cpu"]
    # the second node and the worker wait for the first to migrate and prepare the bucket
    assert services["api-2"]["depends_on"]["api-1"]["condition"] == "service_healthy"
    assert services["worker"]["depends_on"]["api-1"]["condition"] == "service_healthy"
    assert services["api-1"]["ports"] != services["api-2"]["ports"]


def test_every_node_gets_the_distributed_settings(compose: dict[str, Any]) -> None:
    for name in ("api-1", "api-2", "worker"):
        env = compose["services"][name]["environment"]
        assert env["CANVASFILL_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in env["CANVASFILL_DATABASE_URL"]
        assert env["CANVASFILL_BROKER_URL"] == "redis://redis:6379/0"
        assert env["CANVASFILL_BLOB_URL"].startswith("s3://")
        assert env["CANVASFILL_S3_ENDPOINT_URL"] == "http://seaweedfs:8333"
        assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"} <= set(env)


def test_every_canvasfill_variable_names_a_setting(compose: dict[str, Any]) -> None:
    fields = set(Settings.model_fields) | PENDING_SETTINGS
    for name in ("api-1", "api-2", "worker"):
        for variable in compose["services"][name]["environment"]:
            if variable.startswith("CANVASFILL_"):
                assert variable.removeprefix("CANVASFILL_").lower() in fields, variable


def test_the_blob_url_is_one_the_service_accepts(compose: dict[str, Any]) -> None:
    from canvasfill.storage.s3 import parse_s3_url

    url = compose["services"]["api-1"]["environment"]["CANVASFILL_BLOB_URL"]
    assert parse_s3_url(url).bucket


def test_seaweedfs_serves_s3_with_the_nodes_keys(compose: dict[str, Any]) -> None:
    seaweed = compose["services"]["seaweedfs"]
    assert seaweed["command"][0] == "server"
    assert "-s3" in seaweed["command"]
    assert "-s3.config=/etc/seaweedfs/s3.json" in seaweed["command"]
    config = compose["configs"]["seaweedfs-s3"]["content"]
    api_env = compose["services"]["api-1"]["environment"]
    assert "${S3_ACCESS_KEY:-canvasfill}" in config
    assert api_env["AWS_ACCESS_KEY_ID"] == "${S3_ACCESS_KEY:-canvasfill}"
    assert api_env["AWS_SECRET_ACCESS_KEY"].startswith("${S3_SECRET_KEY:?")


def test_the_serve_flags_in_compose_exist() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    flags = {arg for arg in compose["services"]["api-1"]["command"] if arg.startswith("--")}
    usage = subprocess.run(
        [sys.executable, "-m", "canvasfill.cli", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    ).stdout
    assert flags
    assert all(flag in usage for flag in flags), usage


def test_the_image_installs_the_distributed_extras_and_serves() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.MULTILINE)
    extras = re.search(r'pip install -c constraints\.txt "\.\[([a-z0-9,]+)\]"', dockerfile)
    assert extras  # the versions every other install tests
    assert {"server", "onnx", "postgres", "s3", "distributed"} <= set(extras.group(1).split(","))
    assert "COPY pyproject.toml README.md constraints.txt" in dockerfile
    assert 'CMD ["canvasfill", "serve", "--host", "0.0.0.0"' in dockerfile
