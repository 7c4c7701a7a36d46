"""ocpp-trio: an OCPP 1.6-J Central System on Trio.

Layers (top to bottom): ``engine.protocol`` (sans-IO OCPP-J core), ``engine.profiles`` (one state machine
per feature profile), ``engine.store`` (persistence), ``engine.server`` (the Trio shell, the only layer
that imports trio).
"""

from engine._version import __version__ as __version__
