"""Quality and speed benchmarks against peers; run as ``python -m benchmarks.quality``."""
