"""``python -m conformance.bench --csms ws://127.0.0.1:9000/ocpp …`` (the same as ``ocpp-trio bench``)."""

import sys

from conformance.bench.cli import main

sys.exit(main())
