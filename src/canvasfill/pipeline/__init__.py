"""The in-process pipeline: a job spec and its input bytes in, encoded result images out.

No tasks, no server I/O: the CLI and the Python API call it directly, and ``jobs.execute``
calls it for a stored task.
"""
