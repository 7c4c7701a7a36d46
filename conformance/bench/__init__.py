"""``ocpp-trio bench``: a load and latency generator for any OCPP 1.6-J Central System.

N simulated chargers over real websockets (127.0.0.1 only), spread over worker processes that each run a
Trio event loop, in the scenarios of :mod:`conformance.bench.scenarios`. The report
(:mod:`conformance.bench.report`) gives connections established and dropped, messages per second,
per-action latency percentiles, CALLERRORs, the server's CPU and RSS when given its PID, and the
generator's own CPU use (a saturated generator would otherwise pass for a slow server).

    ocpp-trio bench --csms ws://127.0.0.1:9000/ocpp --scenario session --chargers 1000 --duration 20
"""

from conformance.bench.loadgen import BenchConfig, BenchError, run_bench
from conformance.bench.report import format_table

__all__ = ["BenchConfig", "BenchError", "format_table", "run_bench"]
