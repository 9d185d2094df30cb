# canvasfill for distributed deployments: the same image runs API nodes
# (`canvasfill serve`) and workers (`canvasfill worker`); docker-compose.yml shows both.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CANVASFILL_DATA_DIR=/data

# OpenCV (headless) and ONNX Runtime load these at import
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 libgomp1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md constraints.txt ./
COPY src ./src
# server: the HTTP service; onnx: the LaMa and MI-GAN engines (CPU build); postgres: the
# task database; s3: the blob store; distributed: the Celery dispatcher and its Redis
# client (celery[redis]). The versions are the constraints file's, as in `make test`.
RUN pip install -c constraints.txt ".[server,onnx,postgres,s3,distributed]"

RUN useradd --create-home --uid 1000 canvasfill \
    && mkdir -p /data && chown canvasfill:canvasfill /data
USER canvasfill
VOLUME ["/data"]
EXPOSE 8000

CMD ["canvasfill", "serve", "--host", "0.0.0.0", "--port", "8000"]
