"""Regression check for the frame path: fails (exit 1) when the median time to parse + validate + answer +
serialise one MeterValues CALL, or the median of its schema validation alone, is more than 2x the figure
recorded in ``frame_path_baseline.json``.

The measurement is the one of ``benchmarks/frame_path.py`` (the sans-IO core exactly as the server runs
it, on a MeterValues frame with 10 sampled values), repeated a few times on fresh frames; the best of the
medians is kept, so another process briefly taking the CPU does not fail the check. It also reports the
median of schema validation alone (``SchemaRegistry.validate_request`` on the parsed payload), which the
performance target wants under 10 us.

    .venv/bin/python benchmarks/frame_path_check.py            # check against the recorded figure
    .venv/bin/python benchmarks/frame_path_check.py --record   # measure and record a new figure

Record again (and commit the JSON) after a deliberate speed-up, so the check guards the new figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from frame_path import meter_values_frame  # noqa: E402

from engine.protocol import jsontext  # noqa: E402
from engine.protocol.connection import OcppConnection, RecentReplies  # noqa: E402
from engine.protocol.validation import default_registry  # noqa: E402

BASELINE = HERE / "frame_path_baseline.json"
ALLOWED_FACTOR = 2.0


def measure(runs: int = 10_000, repeats: int = 3) -> dict[str, Any]:
    """Best-of-``repeats`` medians (us) of the whole frame path and of validation alone."""
    schemas = default_registry()
    medians: list[float] = []
    p99s: list[float] = []
    validate_medians: list[float] = []
    for repeat in range(repeats):
        conn = OcppConnection(schemas, recent=RecentReplies(64))
        frames = [meter_values_frame(f"id-{repeat}-{n}") for n in range(runs)]
        samples: list[float] = []
        for frame in frames:
            start = time.perf_counter()
            [event] = conn.receive_text(frame, 0.0)
            conn.reply_result(event.unique_id, {})  # type: ignore[union-attr]
            samples.append((time.perf_counter() - start) * 1e6)
        samples.sort()
        medians.append(statistics.median(samples))
        p99s.append(samples[int(len(samples) * 0.99)])
        payloads = [jsontext.loads(frame)[3] for frame in frames]
        validation: list[float] = []
        for payload in payloads:
            start = time.perf_counter()
            schemas.validate_request("MeterValues", payload)
            validation.append((time.perf_counter() - start) * 1e6)
        validate_medians.append(statistics.median(validation))
    return {
        "median_us": round(min(medians), 2),
        "p99_us": round(min(p99s), 2),
        "validate_median_us": round(min(validate_medians), 2),
        "runs": runs,
        "repeats": repeats,
        "frame_bytes": len(meter_values_frame("id-0")),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--record", action="store_true", help=f"write the measurement to {BASELINE.name}")
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    figures = measure(args.runs, args.repeats)
    print(
        f"frame path (MeterValues, {figures['frame_bytes']} bytes, 10 sampled values): median "
        f"{figures['median_us']:.1f} us, p99 {figures['p99_us']:.1f} us; validation alone median "
        f"{figures['validate_median_us']:.1f} us (best of {args.repeats} x {args.runs} runs)"
    )
    if args.record:
        record = {
            **figures,
            "recorded": dt.date.today().isoformat(),
            "python": platform.python_version(),
            "machine": f"{platform.machine()}, {platform.processor() or 'unknown cpu'}",
        }
        BASELINE.write_text(json.dumps(record, indent=2) + "\n")
        print(f"recorded in {BASELINE}")
        return 0
    try:
        baseline = json.loads(BASELINE.read_text())
    except (OSError, ValueError) as exc:
        print(f"no usable baseline ({exc}); run with --record first", file=sys.stderr)
        return 2
    verdicts = []
    for key, label in (("median_us", "median"), ("validate_median_us", "validation median")):
        if key not in baseline:
            continue
        limit = baseline[key] * ALLOWED_FACTOR
        verdict = "OK" if figures[key] <= limit else "REGRESSION"
        verdicts.append(verdict)
        print(
            f"{verdict}: {label} {figures[key]:.1f} us against recorded {baseline[key]:.1f} us "
            f"(limit {ALLOWED_FACTOR:g}x = {limit:.1f} us, recorded {baseline.get('recorded', '?')})"
        )
    return 0 if all(v == "OK" for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
