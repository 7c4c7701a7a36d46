"""The load generator: worker processes, each a Trio event loop driving its share of the chargers, and
the coordinator that starts them, keeps them in step and merges what they measured.

Theory of operation
-------------------
:func:`run_bench` (the coordinator, plain blocking code) starts ``--workers`` subprocesses
(``python -m conformance.bench.worker``) and talks to each over its stdin/stdout, one JSON
object per line:

1. coordinator → worker: the configuration and the worker's slice of charger indices;
2. the worker connects its chargers at its share of the ramp rate and boots each, then answers
   ``ready`` (storm: at once, without connecting);
3. when every worker is ready, the coordinator samples the server (``/proc/PID``) and sends ``go`` with
   a start and end instant on the shared ``CLOCK_MONOTONIC`` (``time.monotonic`` is the same clock in
   every process on Linux), so all workers start the measured window together;
4. only CALLs *sent* inside the window are counted; a worker answers ``done`` with its samples once its
   last CALL is answered (storm: once every charger is Accepted or has failed);
5. ``close``: the chargers close their websockets normally, the worker answers ``closed`` and exits.

Each worker reports the CPU time it used inside the window, so a saturated generator shows in the
report (a worker near 100 % of one core is the bottleneck, not the CSMS). Everything is bounded in time;
worker processes still running at the end are killed by PID.

Only loopback targets are accepted: this tool opens thousands of connections and must never be aimed at
someone else's server by a typo.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import ipaddress
import json
import math
import os
import queue
import random
import resource
import subprocess
import sys
import threading
import time
import urllib.parse
from array import array
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.bench.host import describe_host
from conformance.bench.report import build_report
from conformance.bench.scenarios import BOOT, MIXES, SCENARIOS, SessionSteps

#: how long after the window the coordinator waits for the workers' last answers
DRAIN_GRACE = 10.0
#: how long closing the connections may take
CLOSE_GRACE = 20.0
#: seconds between "go" and the window's start (10,000 chargers' nurseries are cancelled meanwhile)
GO_MARGIN = 1.0
#: the checkout this code runs from (its commit goes into every report, when it is a git checkout)
CODE_ROOT = Path(__file__).resolve().parents[2]


class BenchError(Exception):
    """The run could not be carried out (bad target, a worker died, the ramp never finished)."""


@dataclass(frozen=True)
class BenchConfig:
    csms: str
    scenario: str = "heartbeat"
    chargers: int = 100
    #: the measured window in seconds (storm: the time limit)
    duration: float = 20.0
    #: new connections per second, all workers together (not used by storm)
    ramp: float = 500.0
    workers: int = 2
    #: steady: CALLs per second per charger
    rate: float = 1.0
    #: steady: what is sent on each tick
    mix: str = "session"
    server_pid: int | None = None
    id_prefix: str = "BENCH"
    response_timeout: float = 30.0
    connect_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {self.scenario!r}; choose from {', '.join(SCENARIOS)}")
        if self.mix not in MIXES:
            raise ValueError(f"unknown mix {self.mix!r}; choose from {', '.join(MIXES)}")
        if self.chargers < 1 or self.workers < 1:
            raise ValueError("--chargers and --workers must be at least 1")
        if not (0 < self.duration <= 3600):
            raise ValueError("--duration must be more than 0 and at most 3600 seconds")
        if self.ramp <= 0 or self.rate <= 0:
            raise ValueError("--ramp and --rate must be positive")


def parse_target(url: str) -> tuple[str, int, str]:
    """``ws://HOST:PORT/PATH`` → (host, port, path); only ws:// to a loopback address."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "ws":
        raise BenchError(f"the bench speaks ws:// only, not {url!r}")
    host = parts.hostname or ""
    if host == "localhost":
        host = "127.0.0.1"
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise BenchError(f"the bench only targets loopback addresses (127.0.0.0/8, ::1), not {host!r}")
    return host, parts.port or 80, parts.path.rstrip("/")


# ============================================================================================ the worker


class _Recorder:
    """What one worker measured."""

    def __init__(self) -> None:
        self.connect_seconds = array("d")
        self.connect_errors: Counter[str] = Counter()
        self.boot_seconds = array("d")
        self.boot_status: Counter[str] = Counter()
        self.accepted_at = array("d")
        self.latency: dict[str, array[float]] = {}
        self.errors: Counter[str] = Counter()
        self.timeouts: Counter[str] = Counter()
        self.drops = 0
        self.drop_reasons: Counter[str] = Counter()
        self.server_calls = 0
        self.unexpected = 0
        self.late = 0
        #: steady: how late this process woke for a scheduled send (its own lag, not the CSMS's)
        self.wake_slack = array("d")
        self.clean_closes = 0

    def call(self, action: str, seconds: float) -> None:
        samples = self.latency.get(action)
        if samples is None:
            samples = self.latency[action] = array("d")
        samples.append(seconds)

    def results(self) -> dict[str, Any]:
        return {
            "connect_ms": [round(s * 1000, 3) for s in self.connect_seconds],
            "connect_errors": dict(self.connect_errors),
            "boot_ms": [round(s * 1000, 3) for s in self.boot_seconds],
            "boot_status": dict(self.boot_status),
            "accepted_at": list(self.accepted_at),
            "latency_ms": {a: [round(s * 1000, 3) for s in v] for a, v in self.latency.items()},
            "errors": dict(self.errors),
            "timeouts": dict(self.timeouts),
            "drops": self.drops,
            "drop_reasons": dict(self.drop_reasons),
            "server_calls": self.server_calls,
            "unexpected": self.unexpected,
            "late": self.late,
            "wake_slack_ms": [round(s * 1000, 3) for s in self.wake_slack],
        }


def worker_main() -> None:
    import trio

    from engine.server.process_tuning import tune_collector

    # Read the first line straight from the pipe: a buffered sys.stdin could swallow later commands.
    received = b""
    while b"\n" not in received:
        data = os.read(0, 65536)
        if not data:
            return
        received += data
    config_line, leftover = received.split(b"\n", 1)
    spec = json.loads(config_line)
    config = BenchConfig(**spec["config"])
    indices = range(spec["first"], spec["stop"])
    _raise_nofile(len(indices) + 256)
    tune_collector()  # start-up objects out of every pass; _Worker.main paces the collector from there
    trio.run(_Worker(config, indices, leftover).main)


def _emit(event: str, **fields: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class _Worker:
    def __init__(self, config: BenchConfig, indices: range, leftover: bytes = b""):
        import trio

        self.trio = trio
        self.config = config
        self.indices = indices
        self.host, self.port, self.path = parse_target(config.csms)
        self.stats = _Recorder()
        self.booted = 0
        self.all_booted = trio.Event()
        self.go_event = trio.Event()
        self.close_event = trio.Event()
        self.start = math.inf
        self.end = math.inf
        self.active = 0
        self.all_finished = trio.Event()
        self.finished = 0
        self.leftover = leftover

    def to_trio(self, instant: float) -> float:
        """A ``time.monotonic`` instant on Trio's clock (which has an offset of its own)."""
        return self.trio.current_time() + (instant - time.monotonic())

    async def main(self) -> None:
        from engine.server.collector_pacer import NO_FULL_PASSES, pace_collection

        trio = self.trio
        async with trio.open_nursery() as nursery:
            commands = trio.lowlevel.FdStream(os.dup(0))
            nursery.start_soon(self._commands, commands, nursery.cancel_scope)
            # The generator's own collector pauses would be measured as the server's latency; its run is
            # bounded in time, so it can leave full passes (a stall of every charger) out altogether.
            nursery.start_soon(pace_collection, NO_FULL_PASSES)
            chargers = [_Charger(self, index) for index in self.indices]
            storm = self.config.scenario == "storm"
            if storm:
                _emit("ready", chargers=len(chargers))
                await self.go_event.wait()
                await trio.sleep_until(self.to_trio(self.start))
                for charger in chargers:
                    nursery.start_soon(charger.run)
            else:
                rate = self.config.ramp / self.config.workers
                first = trio.current_time()
                for number, charger in enumerate(chargers):
                    await trio.sleep_until(first + number / rate)
                    nursery.start_soon(charger.run)
                await self.all_booted.wait()
                # Every connection is set up: out of all later collector passes with it, so the passes
                # during the window (a stall of every simulated charger, counted as the CSMS's latency)
                # stay small. This process ends with the run: what that keeps alive does not matter.
                gc.collect()
                gc.freeze()
                _emit("ready", chargers=len(chargers), cpu=time.process_time())
                await self.go_event.wait()
            await trio.sleep_until(self.to_trio(self.start))
            cpu_start = time.process_time()
            if storm:
                with trio.move_on_at(self.to_trio(self.end)):
                    await self.all_booted.wait()
                cpu_end = time.process_time()
            else:
                await trio.sleep_until(self.to_trio(self.end))
                cpu_end = time.process_time()
                with trio.move_on_after(self.config.response_timeout + 1):
                    await self.all_finished.wait()
            _emit("done", cpu_window=cpu_end - cpu_start, results=self.stats.results())
            await self.close_event.wait()
            with trio.move_on_after(CLOSE_GRACE - 5):
                await self.all_closed()
            _emit(
                "closed",
                clean_closes=self.stats.clean_closes,
                drops=self.stats.drops,
                drop_reasons=dict(self.stats.drop_reasons),
                cpu_total=time.process_time(),
            )
            nursery.cancel_scope.cancel()

    async def all_closed(self) -> None:
        while self.active:
            await self.trio.sleep(0.05)

    async def _commands(self, stream: Any, everything: Any) -> None:
        buffer = self.leftover
        async with stream:
            while True:
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    command = json.loads(line)
                    if command["cmd"] == "go":
                        self.start, self.end = command["start"], command["end"]
                        self.go_event.set()
                    elif command["cmd"] == "close":
                        self.close_event.set()
                data = await stream.receive_some(65536)
                if not data:  # the coordinator went away: stop everything
                    print("bench worker: the coordinator closed the command pipe; stopping", file=sys.stderr)
                    everything.cancel()
                    return
                buffer += data

    def one_booted(self) -> None:
        self.booted += 1
        if self.booted == len(self.indices):
            self.all_booted.set()

    def one_finished(self) -> None:
        self.finished += 1
        if self.finished == len(self.indices):
            self.all_finished.set()


class _Charger:
    """One simulated charger: one task, one connection, at most one CALL outstanding."""

    __slots__ = ("closing", "id", "index", "seq", "worker", "ws")

    def __init__(self, worker: _Worker, index: int):
        self.worker = worker
        self.index = index
        self.id = f"{worker.config.id_prefix}-{index:05d}"
        self.ws: Any = None
        self.seq = 0
        self.closing = False

    async def run(self) -> None:
        from conformance.bench.wire import HandshakeFailed, WsClient, WsClosed

        worker, trio, stats = self.worker, self.worker.trio, self.worker.stats
        config = worker.config
        worker.active += 1
        booted = finished = False
        try:
            began = time.monotonic()
            try:
                with trio.fail_after(config.connect_timeout):
                    self.ws = await WsClient.connect(worker.host, worker.port, f"{worker.path}/{self.id}")
            except (OSError, HandshakeFailed, trio.TooSlowError) as exc:
                stats.connect_errors[_error_name(exc)] += 1
                return
            stats.connect_seconds.append(time.monotonic() - began)
            sent = time.monotonic()
            answer = await self.call("BootNotification", BOOT)
            if answer is None:
                stats.boot_status["timeout"] += 1
            elif answer[0] == 3:
                stats.boot_seconds.append(time.monotonic() - sent)
                status = str(answer[2].get("status")) if isinstance(answer[2], dict) else "?"
                stats.boot_status[status] += 1
                if status == "Accepted":
                    stats.accepted_at.append(time.monotonic())
            else:
                stats.boot_status[f"CALLERROR {answer[2]}"] += 1
            booted = True
            worker.one_booted()
            if config.scenario == "steady":
                # Each charger waits for its own first send time, not for the window's start: thousands
                # of chargers waking at one instant would make this process late for the first sends.
                await self.idle_until(worker.go_event, lambda: 0.0)
                await self.load()
            elif config.scenario != "storm":
                await self.idle_until(worker.go_event, lambda: worker.start)
                await self.load()
            finished = True
            worker.one_finished()
            await self.idle_until(worker.close_event, lambda: 0.0)
            self.closing = True
            await self.ws.aclose()
            stats.clean_closes += 1
        except WsClosed as exc:
            if not self.closing:
                stats.drops += 1
                stats.drop_reasons[f"{exc.code} {exc.reason}"[:80]] += 1
        except Exception as exc:  # e.g. a frame that is not UTF-8: this charger is out, the run goes on
            stats.drops += 1
            stats.drop_reasons[_error_name(exc)] += 1
        finally:
            if self.ws is not None and not self.closing:
                self.ws.abort()
            if not booted:
                worker.one_booted()
            if not finished:
                worker.one_finished()
            worker.active -= 1

    async def idle_until(self, event: Any, instant: Callable[[], float]) -> None:
        """Read (answering pings and CSMS CALLs) until ``event`` is set and ``instant()`` has come."""
        trio = self.worker.trio
        if not event.is_set():
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._read_forever)
                await event.wait()
                nursery.cancel_scope.cancel()
        with trio.move_on_at(self.worker.to_trio(instant())):
            await self._read_forever()

    async def _read_forever(self) -> None:
        while True:
            await self.unsolicited(await self.ws.receive_text())

    async def unsolicited(self, text: str) -> None:
        """A frame we did not wait for: a CSMS CALL is answered NotImplemented, anything else counted."""
        stats = self.worker.stats
        try:
            message = json.loads(text)
        except ValueError:
            stats.unexpected += 1
            return
        if isinstance(message, list) and len(message) >= 3 and message[0] == 2:
            stats.server_calls += 1
            with self.worker.trio.CancelScope(shield=True):
                await self.ws.send_text(
                    json.dumps([4, message[1], "NotImplemented", "load generator", {}], separators=(",", ":"))
                )
        else:
            stats.unexpected += 1

    async def call(self, action: str, payload: dict[str, Any]) -> list[Any] | None:
        """Send a CALL; the CALLRESULT/CALLERROR list, or None after the response timeout."""
        self.seq += 1
        unique_id = str(self.seq)
        await self.ws.send_text(json.dumps([2, unique_id, action, payload], separators=(",", ":")))
        answer: list[Any] | None = None  # stays None when the response timeout cancels the wait
        with self.worker.trio.move_on_after(self.worker.config.response_timeout):
            answer = await self._answer_to(unique_id)
        return answer  # noqa: RET504 - None when the cancel scope above timed the wait out

    async def _answer_to(self, unique_id: str) -> list[Any]:
        """Read until the answer to ``unique_id`` arrives, dealing with whatever else the CSMS sends."""
        while True:
            text = await self.ws.receive_text()
            try:
                message = json.loads(text)
            except ValueError:
                self.worker.stats.unexpected += 1
                continue
            if (
                isinstance(message, list)
                and len(message) >= 3
                and message[1] == unique_id
                and message[0] in (3, 4)
            ):
                return message
            await self.unsolicited(text)

    def record(self, action: str, sent: float, answer: list[Any] | None, latency: float) -> None:
        stats = self.worker.stats
        if not (self.worker.start <= sent < self.worker.end):
            return
        if answer is None:
            stats.timeouts[action] += 1
        else:
            stats.call(action, latency)
            if answer[0] == 4:
                stats.errors[f"{action} {answer[2]}"] += 1

    async def load(self) -> None:
        worker = self.worker
        scenario = worker.config.scenario
        end = worker.end
        if scenario == "heartbeat":
            while (sent := time.monotonic()) < end:
                answer = await self.call("Heartbeat", {})
                self.record("Heartbeat", sent, answer, time.monotonic() - sent)
        elif scenario == "session":
            steps = SessionSteps(self.index)
            while (sent := time.monotonic()) < end:
                action, payload = steps.next_call()
                answer = await self.call(action, payload)
                self.record(action, sent, answer, time.monotonic() - sent)
                steps.answered(action, answer[2] if answer is not None and answer[0] == 3 else None)
        elif scenario == "steady":
            await self.steady(end)
        # idle: nothing to send; the caller keeps the connection open until close

    async def steady(self, end: float) -> None:
        worker = self.worker
        trio = worker.trio
        interval = 1.0 / worker.config.rate
        steps = SessionSteps(self.index) if worker.config.mix == "session" else None
        rng = random.Random(self.index)
        due = worker.start + rng.uniform(0, interval)
        while due < end:
            if time.monotonic() < due:
                with trio.move_on_at(worker.to_trio(due)):
                    await self._read_forever()
                # Latency counts from the moment this charger woke to send: the wake-up's lag (epoll
                # rounds timeouts up to a millisecond, this process serves hundreds of chargers) is the
                # generator's, and is reported apart as its wake slack.
                start = time.monotonic()
                if worker.start <= due < worker.end:
                    worker.stats.wake_slack.append(start - due)
            else:
                # Past due before waiting: the CSMS's previous answer came late, so this send's delay is
                # the CSMS's doing and counts from the scheduled instant (no coordinated omission).
                worker.stats.late += 1
                start = due
            if steps is not None:
                action, payload = steps.next_call()
            else:
                action, payload = "Heartbeat", {}
            answer = await self.call(action, payload)
            self.record(action, due, answer, time.monotonic() - start)
            if steps is not None:
                steps.answered(action, answer[2] if answer is not None and answer[0] == 3 else None)
            due += interval


def _error_name(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        import errno

        return errno.errorcode.get(exc.errno, str(exc.errno))
    text = str(exc)
    return f"{type(exc).__name__}: {text}"[:80] if text else type(exc).__name__


def _raise_nofile(needed: int) -> None:
    """Raise the soft open-files limit towards ``needed`` (up to the hard limit) where allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


# ======================================================================================= the coordinator


@dataclass
class ProcSample:
    """A process's CPU seconds and memory, from /proc."""

    cpu: float
    rss_kib: int
    hwm_kib: int
    threads: int


def sample_process(pid: int) -> ProcSample | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    values: dict[str, int] = {}
    for line in status.splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "Threads"):
            values[key] = int(rest.split()[0])
    return ProcSample(cpu, values.get("VmRSS", 0), values.get("VmHWM", 0), values.get("Threads", 0))


def sample_machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine, from /proc/stat."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0, 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    numbers = [int(x) for x in first[:8]]
    idle = numbers[3] + numbers[4]
    return (sum(numbers) - idle) / ticks, sum(numbers) / ticks


class _Workers:
    """The worker subprocesses and the line-reading threads that feed one queue."""

    def __init__(self, config: BenchConfig):
        self.config = config
        self.events: queue.Queue[tuple[int, dict[str, Any] | None]] = queue.Queue()
        self.processes: list[subprocess.Popen[str]] = []
        self.threads: list[threading.Thread] = []
        self.exited: set[int] = set()

    def start(self) -> None:
        count = min(self.config.workers, self.config.chargers)
        share, extra = divmod(self.config.chargers, count)
        first = 0
        environment = dict(os.environ)
        root = str(Path(__file__).resolve().parents[2])
        environment["PYTHONPATH"] = root + os.pathsep + environment.get("PYTHONPATH", "")
        for number in range(count):
            size = share + (1 if number < extra else 0)
            process = subprocess.Popen(
                [sys.executable, "-m", "conformance.bench.worker"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=environment,
            )
            self.processes.append(process)
            assert process.stdin is not None
            spec = {"config": dataclasses.asdict(self.config), "first": first, "stop": first + size}
            process.stdin.write(json.dumps(spec) + "\n")
            process.stdin.flush()
            first += size
            thread = threading.Thread(target=self._read, args=(number, process), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _read(self, number: int, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.strip():
                self.events.put((number, json.loads(line)))
        self.events.put((number, None))

    def send(self, command: dict[str, Any]) -> None:
        for process in self.processes:
            if process.poll() is None and process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.write(json.dumps(command) + "\n")
                    process.stdin.flush()

    def collect(self, event: str, deadline: float) -> dict[int, dict[str, Any]]:
        """Wait until every worker has sent ``event`` (raises BenchError at the deadline or on a death)."""
        got: dict[int, dict[str, Any]] = {}
        for number in self.exited:
            raise BenchError(f"worker {number} exited before reporting {event!r}")
        while len(got) < len(self.processes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(
                    f"workers did not report {event!r} in time ({len(got)} of {len(self.processes)})"
                )
            try:
                number, message = self.events.get(timeout=remaining)
            except queue.Empty:
                continue
            if message is None:
                self.exited.add(number)
                if number in got:  # it reported, then ended (as it does after "closed")
                    continue
                process = self.processes[number]
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=2)
                raise BenchError(
                    f"worker {number} (pid {process.pid}) exited with status {process.returncode} "
                    f"before reporting {event!r}"
                )
            if message.get("event") == event:
                got[number] = message
        return got

    def stop(self) -> None:
        for process in self.processes:
            if process.stdin is not None:
                with contextlib.suppress(OSError):
                    process.stdin.close()
        for process in self.processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()  # our own child, by its handle (PID)
                process.wait(timeout=5)
        for thread in self.threads:
            thread.join(timeout=5)
        for process in self.processes:
            if process.stdout is not None:
                process.stdout.close()


def run_bench(config: BenchConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run one scenario and return the report (see :func:`conformance.bench.report.build_report`)."""
    say = progress or (lambda _text: None)
    parse_target(config.csms)
    _raise_nofile(config.chargers + 256)
    pid = config.server_pid
    server: dict[str, Any] = {"before": sample_process(pid) if pid else None}
    workers = _Workers(config)
    wall_start = time.monotonic()
    try:
        workers.start()
        count = len(workers.processes)
        say(f"{config.scenario}: {config.chargers} chargers, {count} worker processes")
        if config.scenario == "storm":
            ramp_limit = 30.0
        else:
            ramp_limit = config.chargers / config.ramp + config.connect_timeout + config.response_timeout + 30
        ready = workers.collect("ready", time.monotonic() + ramp_limit)
        ramp_seconds = time.monotonic() - wall_start
        server["after_ramp"] = sample_process(pid) if pid else None
        # Time for every worker to hear "go" and get its chargers waiting for their first sends.
        start = time.monotonic() + GO_MARGIN
        end = start + config.duration
        workers.send({"cmd": "go", "start": start, "end": end})
        _sleep_until(start)
        server["start"] = sample_process(pid) if pid else None
        machine_start = sample_machine()
        say(f"{config.scenario}: measuring for {config.duration:g} s")
        if config.scenario == "storm":
            done = workers.collect("done", end + DRAIN_GRACE)
            window_end = time.monotonic()
        else:
            _sleep_until(end)
            window_end = time.monotonic()
        server["end"] = sample_process(pid) if pid else None
        machine_end = sample_machine()
        if config.scenario != "storm":
            done = workers.collect("done", end + config.response_timeout + DRAIN_GRACE)
        workers.send({"cmd": "close"})
        closed = workers.collect("closed", time.monotonic() + CLOSE_GRACE)
    finally:
        workers.stop()
    report = build_report(
        config=dataclasses.asdict(config),
        ready=ready,
        done=done,
        closed=closed,
        start=start,
        window=window_end - start,
        ramp_seconds=ramp_seconds,
        server=server,
        machine=(machine_end[0] - machine_start[0], machine_end[1] - machine_start[1]),
    )
    report["host"] = describe_host(CODE_ROOT)
    return report


def _sleep_until(instant: float) -> None:
    delay = instant - time.monotonic()
    if delay > 0:
        time.sleep(delay)
