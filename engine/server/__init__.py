"""The Trio shell: listener, per-charger sessions, the registry of live sessions and the ``Csms`` object.

The only layer that imports ``trio`` and ``trio_websocket``.
"""

from engine.server.csms import Csms as Csms
from engine.server.errors import CallErrorResponse as CallErrorResponse
from engine.server.errors import CallFailedError as CallFailedError
from engine.server.errors import CallQueueFullError as CallQueueFullError
from engine.server.errors import CallTimeoutError as CallTimeoutError
from engine.server.errors import ChargerOfflineError as ChargerOfflineError
from engine.server.errors import ResponseInvalidError as ResponseInvalidError
from engine.server.listener import Listener as Listener
from engine.server.registry import Registry as Registry
from engine.server.session import Session as Session
