"""An open-loop HTTP load generator for bench/load.py (wrk2-style; wrk2 is not packaged in Debian).

Requests are sent on a fixed schedule, one every 1/rate seconds, whatever the server does:
a slow answer does not delay the next send (a closed loop such as wrk's waits, so its latency
only mirrors its own concurrency). Each request's latency runs from its *scheduled* send time
to the end of its answer, so time spent waiting for a free connection or behind a slow
server counts (no coordinated omission). Connections are kept alive and reused; up to
``max_connections`` are open at once, and a request that finds none free waits for one (its
latency grows; the schedule does not move).

The generator checks that it is not the bottleneck: ``lag_ms_p99`` is how late the scheduler
itself woke up to start requests, and ``cpu_share`` is its own CPU time over the wall time.
"""
from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Sample:
    scheduled: float  # on time.monotonic()'s clock
    latency_ms: float
    ok: bool


@dataclass
class OpenLoopResult:
    rate: float
    samples: list[Sample]
    lag_ms: list[float] = field(default_factory=list)
    cpu_share: float = 0.0
    wall: float = 0.0

    def window(self, start: float, end: float) -> list[Sample]:
        """The requests scheduled between two moments (e.g. while the poll ran)."""
        return [s for s in self.samples if start <= s.scheduled < end]

    @property
    def lag_ms_p99(self) -> float:
        return percentile(self.lag_ms, 99) if self.lag_ms else 0.0


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank percentile (as wrk2's HdrHistogram reports it, without the buckets)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def summary(samples: list[Sample]) -> tuple[float, float, int]:
    """p50 and p99 in ms, and the number of errors (any answer other than 2xx, or none)."""
    latencies = [s.latency_ms for s in samples]
    return (statistics.median(latencies) if latencies else 0.0, percentile(latencies, 99) if latencies else 0.0,
            sum(not s.ok for s in samples))


class _Connections:
    """Kept-alive connections to one server, at most ``limit`` open at once."""

    def __init__(self, port: int, limit: int) -> None:
        self.port = port
        self.free: asyncio.LifoQueue = asyncio.LifoQueue()
        for _ in range(limit):
            self.free.put_nowait(None)  # a slot without an open connection yet

    async def get(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        """A connection, and whether it was used before (the server may have closed it since)."""
        connection = await self.free.get()
        if connection is None or connection[1].is_closing() or connection[0].at_eof():
            if connection is not None:
                connection[1].close()
            return *await asyncio.open_connection("127.0.0.1", self.port), False
        return *connection, True

    def put(self, connection) -> None:
        self.free.put_nowait(connection)

    def close_all(self) -> None:
        while not self.free.empty():
            connection = self.free.get_nowait()
            if connection is not None:
                connection[1].close()


class _NotAnswered(Exception):
    """The connection closed before any answer: a kept-alive one the server had let go."""


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> tuple[int, bool]:
    """Sends one GET and reads the whole answer; returns its status and whether the server keeps
    the connection open."""
    writer.write(request)
    try:
        status_line = await reader.readuntil(b"\r\n")
    except (asyncio.IncompleteReadError, ConnectionResetError) as error:
        raise _NotAnswered from error
    status = int(status_line.split(b" ", 2)[1])
    length, chunked, keep = 0, False, True
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value:
            chunked = True
        elif name == b"connection" and value == b"close":
            keep = False
    if chunked:
        while (size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    elif length:
        await reader.readexactly(length)
    return status, keep


async def _run(port: int, paths: list[str], headers: dict[str, str], rate: float, seconds: float,
               max_connections: int, timeout: float, stop: asyncio.Event | None) -> OpenLoopResult:
    pool = _Connections(port, max_connections)
    requests = [(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                 + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n").encode() for path in paths]
    result = OpenLoopResult(rate, [])
    tasks: set[asyncio.Task] = set()

    async def fire(scheduled: float, request: bytes) -> None:
        connection, ok = None, False
        try:
            async with asyncio.timeout(timeout):
                reader, writer, reused = await pool.get()
                connection = reader, writer
                try:
                    status, keep = await _exchange(reader, writer, request)
                except _NotAnswered:
                    if not reused:
                        raise
                    writer.close()  # the server closed it while idle (keep-alive timeout): once more, anew
                    connection = await asyncio.open_connection("127.0.0.1", port)
                    status, keep = await _exchange(*connection, request)
            ok = 200 <= status < 300
            if not keep:
                connection[1].close()
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ValueError,
                _NotAnswered):
            if connection is not None:
                connection[1].close()
            connection = None
        finally:
            result.samples.append(Sample(scheduled, (time.monotonic() - scheduled) * 1000, ok))
            pool.put(connection if connection is None or not connection[1].is_closing() else None)

    cpu, start = time.process_time(), time.monotonic()
    n = 0
    while True:
        scheduled = start + n / rate
        if scheduled - start >= seconds or (stop is not None and stop.is_set()):
            break
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        result.lag_ms.append(max(0.0, time.monotonic() - scheduled) * 1000)
        task = asyncio.create_task(fire(scheduled, requests[n % len(requests)]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        n += 1
    if tasks:
        await asyncio.wait(tasks)
    result.wall = time.monotonic() - start
    result.cpu_share = (time.process_time() - cpu) / result.wall
    pool.close_all()
    return result


def run(port: int, paths: list[str], headers: dict[str, str], rate: float, seconds: float, *,
        max_connections: int = 64, timeout: float = 10.0, until=None) -> OpenLoopResult:
    """Sends GETs for ``paths`` in turn at ``rate`` per second for ``seconds`` (or until the
    callable ``until()`` returns true, checked every 0.1 s) and waits for the last answers."""

    async def main() -> OpenLoopResult:
        stop = asyncio.Event() if until is not None else None
        watcher = None
        if until is not None:
            async def watch() -> None:
                while not until():
                    await asyncio.sleep(0.1)
                stop.set()
            watcher = asyncio.create_task(watch())
        try:
            return await _run(port, paths, headers, rate, seconds, max_connections, timeout, stop)
        finally:
            if watcher is not None:
                watcher.cancel()

    return asyncio.run(main())
