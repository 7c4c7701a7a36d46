"""Median time of the frame path for one MeterValues CALL: parse + validate + answer + serialise.

Runs the sans-IO core exactly as the server does (``OcppConnection.receive_text`` then ``reply_result``)
on a MeterValues frame with one meterValue of 10 sampled values (every optional field set), and prints
the median, p90 and p99 in microseconds over many runs. No sockets, no store.

    .venv/bin/python benchmarks/frame_path.py [--runs 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from engine.protocol.connection import OcppConnection, RecentReplies
from engine.protocol.validation import default_registry

MEASURANDS = [
    ("Energy.Active.Import.Register", "Wh", None),
    ("Power.Active.Import", "W", None),
    ("Current.Import", "A", "L1"),
    ("Current.Import", "A", "L2"),
    ("Current.Import", "A", "L3"),
    ("Voltage", "V", "L1-N"),
    ("Voltage", "V", "L2-N"),
    ("Voltage", "V", "L3-N"),
    ("Temperature", "Celsius", None),
    ("SoC", "Percent", None),
]


def meter_values_frame(unique_id: str) -> str:
    sampled = []
    for index, (measurand, unit, phase) in enumerate(MEASURANDS):
        value = {
            "value": f"{1234.5 + index:.1f}",
            "context": "Sample.Periodic",
            "format": "Raw",
            "measurand": measurand,
            "location": "Outlet" if measurand != "Temperature" else "Body",
            "unit": unit,
        }
        if phase:
            value["phase"] = phase
        sampled.append(value)
    payload = {
        "connectorId": 1,
        "transactionId": 42,
        "meterValue": [{"timestamp": "2026-11-24T10:00:00.000Z", "sampledValue": sampled}],
    }
    return json.dumps([2, unique_id, "MeterValues", payload])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20_000)
    args = parser.parse_args()
    schemas = default_registry()
    # A small reply cache, as in production; ids differ so every run does the full work.
    conn = OcppConnection(schemas, recent=RecentReplies(64))
    frames = [meter_values_frame(f"id-{n}") for n in range(args.runs)]
    samples: list[float] = []
    for frame in frames:
        start = time.perf_counter()
        [event] = conn.receive_text(frame, 0.0)
        conn.reply_result(event.unique_id, {})  # type: ignore[union-attr]
        samples.append((time.perf_counter() - start) * 1e6)
    samples.sort()
    print(f"MeterValues frame ({len(frames[0])} bytes, 10 sampled values): parse+validate+answer+serialise")
    print(
        f"runs={len(samples)} median={statistics.median(samples):.1f} us "
        f"p90={samples[int(len(samples) * 0.9)]:.1f} us p99={samples[int(len(samples) * 0.99)]:.1f} us"
    )


if __name__ == "__main__":
    main()
