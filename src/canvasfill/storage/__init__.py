"""Blob stores (inputs and results) and the signed, expiring URLs results are fetched by.

``base.BlobStore`` is the interface; ``local`` keeps blobs in a folder and signs URLs the
API serves at ``/files/...``; an S3 store would implement the same interface with
presigned URLs. ``sweeper`` deletes what has expired.
"""
