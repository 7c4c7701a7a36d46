"""The Trio shell: listener, per-charger sessions, the registry of live sessions and the ``Csms`` object.

The only layer that does I/O. The server side of the websocket is our own (``websocket.py`` over the
sans-IO codec ``engine.protocol.wsframes``): it reads in the session's task, with no background task or
channel per connection, and closes with 1002/1007/1009 where RFC 6455 says so. ``trio_websocket`` is
used only as a client (``Csms.open_memory_connection``, tests and the conformance suite).
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
