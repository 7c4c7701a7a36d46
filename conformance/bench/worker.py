"""``python -m conformance.bench.worker``: one load generator worker process (started by
:func:`conformance.bench.loadgen.run_bench`, which talks to it over stdin/stdout; see there)."""

from conformance.bench.loadgen import worker_main

if __name__ == "__main__":
    worker_main()
