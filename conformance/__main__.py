"""``python -m conformance run|list …`` (the same commands as ``ocpp-trio conformance``)."""

import sys

from conformance.cli import main

sys.exit(main())
