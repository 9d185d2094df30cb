"""Vendor dialects: each module declares one hosted API as a door (``api/door.py``).

A dialect module registers a ``Door`` at import (``api.app`` imports every module of this
package: no list of dialects anywhere). It holds only its declaration, its parsing (the
request to a ``Submission``) and its rendering (tasks, errors, callbacks): it never
authorizes, accepts, waits or touches a store; ``api/handler.py`` does, once for all.
"""
