"""A lean HTTP/1.1 keep-alive load generator for the latency benchmarks.

Why not httpx: on a 2-core machine the client shares the CPU with the server it measures. httpx's
async client spends about a millisecond of Python per request, so at a few hundred requests a
second the client itself queues responses and its own delay lands in the server's p99 (measured:
a bare ``/version`` shows p99 ~100 ms through httpx at 16 connections). This client writes one
pre-built request per call on a raw asyncio stream (uvloop when available) and reads the response
by its Content-Length: a few tens of microseconds per request, so the figures are the server's.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

try:  # uvicorn[standard] brings uvloop; fall back to asyncio's own loop without it
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None


class LoadError(RuntimeError):
    pass


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    path: str
    params: dict[str, str]
    headers: dict[str, str]

    def request_bytes(self) -> bytes:
        target = self.path + (f"?{urlencode(self.params)}" if self.params else "")
        lines = [f"GET {target} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: application/json"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    length = None
    for line in header_lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "transfer-encoding" and "chunked" in value.lower():
            raise LoadError("chunked responses are not supported by this load generator")
    if length is None:
        raise LoadError("response without Content-Length")
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _run(targets: Sequence[Target], requests: int, concurrency: int, warm: bool) -> dict[str, Any]:
    encoded = [target.request_bytes() for target in targets]
    host, port = targets[0].host, targets[0].port
    connections = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
    first_body = b""
    for index, (reader, writer) in enumerate(connections):
        # Every connection is opened and used once before the clock starts; with ``warm`` the
        # request is the first target's (caches warm), else a bare /version (caches stay cold).
        writer.write(encoded[0] if warm else Target(host, port, "/version", {}, {}).request_bytes())
        status, body = await _read_response(reader)
        if status != 200:
            raise LoadError(f"warm-up request got HTTP {status}: {body[:300]!r}")
        if index == 0 and warm:
            first_body = body
    latencies: list[float] = []
    remaining = requests
    sent = 0

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal remaining, sent, first_body
        while remaining > 0:
            remaining -= 1
            request = encoded[sent % len(encoded)]
            sent += 1
            started = time.perf_counter()
            writer.write(request)
            status, body = await _read_response(reader)
            latencies.append((time.perf_counter() - started) * 1000)
            if status != 200:
                raise LoadError(f"HTTP {status}: {body[:300]!r}")
            if not first_body:
                first_body = body

    wall_started = time.perf_counter()
    try:
        await asyncio.gather(*(worker(reader, writer) for reader, writer in connections))
    finally:
        for _, writer in connections:
            writer.close()
    wall = time.perf_counter() - wall_started
    latencies.sort()
    return {
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[max(0, int(len(latencies) * 0.99) - 1)], 2),
        "max_ms": round(latencies[-1], 2),
        "requests_per_s": round(len(latencies) / wall, 1),
        "first_body": first_body,
    }


def measure(
    targets: Target | Sequence[Target], requests: int, concurrency: int, *, warm: bool = True
) -> dict[str, Any]:
    """Fire ``requests`` GETs over ``concurrency`` keep-alive connections (closed loop: each
    connection sends its next request when the last answer is in), cycling through ``targets``.
    Returns latency figures and the first target's response body (for sanity checks)."""
    targets = [targets] if isinstance(targets, Target) else list(targets)
    if uvloop is not None:
        return uvloop.run(_run(targets, requests, concurrency, warm))
    return asyncio.run(_run(targets, requests, concurrency, warm))
