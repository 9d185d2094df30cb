"""Blob stores (inputs and results) and the signed, expiring URLs results are fetched by.

``base.BlobStore`` is the interface; ``local`` keeps blobs in a folder and signs URLs the
API serves at ``/files/...``; ``s3`` keeps them in an S3-compatible bucket and hands out
presigned URLs the bucket serves itself. ``blob_url`` picks one from the
``CANVASFILL_BLOB_URL`` setting. ``jobs.sweeper`` deletes what has expired.
"""
