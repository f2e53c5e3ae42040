"""A closed-loop load generator on loopback: N keep-alive connections, each sending its next request as
soon as the previous answer is read. A warm-up first (not recorded), then a fixed duration or a fixed
number of requests. Latency is measured per request, from sending to the last byte of the body."""

from __future__ import annotations

import asyncio
import itertools
import random
import statistics
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp
import orjson

QUERIES_HEADER = "X-Bench-Queries"


@dataclass
class Request:
    method: str
    path: str
    headers: dict = field(default_factory=dict)
    body: bytes | None = None


class Scenario:
    """What one connection asks for next. Subclasses keep per-connection state in ``state``."""

    parses_body = False
    # A JSON list ({"results": [...]}): each answer's row count is kept, so query counts are compared
    # between pages that have rows (an empty page skips its prefetches).
    lists = False

    def __init__(self, headers: dict | None = None):
        self.headers = headers or {}

    def first_state(self, connection: int) -> dict:
        return {}

    def next_request(self, state: dict) -> Request:
        raise NotImplementedError

    def answered(self, state: dict, status: int, body: bytes) -> None:
        pass


class Paths(Scenario):
    """GET the given paths, each connection starting at another place in the list."""

    def __init__(self, paths: list[str], headers: dict | None = None, *, lists: bool = False):
        super().__init__(headers)
        if not paths:
            raise ValueError("Paths needs at least one path")
        self.paths, self.lists = paths, lists

    def first_state(self, connection: int) -> dict:
        shuffled = self.paths[:]
        random.Random(connection).shuffle(shuffled)
        return {"paths": itertools.cycle(shuffled)}

    def next_request(self, state: dict) -> Request:
        return Request("GET", next(state["paths"]), self.headers)


class FollowNext(Scenario):
    """A cursor-paged list: the first page, then its ``next`` link, up to ``depth`` pages, then start over;
    connection n starts n pages deep, so deep pages are read all the time, not only the first."""

    parses_body = True
    lists = True

    def __init__(self, first: str, headers: dict | None = None, depth: int = 20):
        super().__init__(headers)
        self.first, self.depth = first, depth

    def first_state(self, connection: int) -> dict:
        return {"path": self.first, "page": 0, "skip": connection % self.depth}

    def next_request(self, state: dict) -> Request:
        return Request("GET", state["path"], self.headers)

    def answered(self, state: dict, status: int, body: bytes) -> None:
        following = orjson.loads(body).get("next") if status == 200 else None
        state["page"] += 1
        if following and state["page"] < self.depth + state.pop("skip", 0):
            parts = urlsplit(following)
            state["path"] = f"{parts.path}?{parts.query}"
        else:
            state["path"], state["page"] = self.first, 0


class CreateLeads(Scenario):
    """POST a new lead with a fresh Idempotency-Key and a mobile number no lead has yet."""

    def __init__(self, path: str, headers: dict | None = None):
        super().__init__(headers)
        self.path = path
        self.mobiles = itertools.count(random.randrange(10**8))

    def next_request(self, state: dict) -> Request:
        number = next(self.mobiles) % 10**9
        body = orjson.dumps(
            {"name": "压测客户", "mobile": f"19{number:09d}", "core_needs": "Whole-flat renovation, 3 rooms"}
        )
        headers = {**self.headers, "Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        return Request("POST", self.path, headers, body)


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    queries: list[int]
    statuses: dict[int, int]
    first_error: str = ""
    nonempty_queries: list[int] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]

    @property
    def queries_per_request(self) -> dict:
        return _spread(self.queries)

    @property
    def queries_with_rows(self) -> dict:
        """Query counts of the answers that listed at least one row (lists only)."""
        return _spread(self.nonempty_queries)


def _spread(values: list[int]) -> dict:
    if not values:
        return {"median": None, "min": None, "max": None}
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


async def _connection(number, base_url, scenario, stop, record, recording):
    connector = aiohttp.TCPConnector(limit=1, force_close=False, enable_cleanup_closed=True)
    timeout = aiohttp.ClientTimeout(total=60)
    state = scenario.first_state(number)
    async with aiohttp.ClientSession(
        base_url, connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
    ) as session:
        while not stop():
            request = scenario.next_request(state)
            started = time.perf_counter()
            try:
                async with session.request(
                    request.method, request.path, headers=request.headers, data=request.body, allow_redirects=False
                ) as response:
                    body = await response.read()
                    status, queries = response.status, response.headers.get(QUERIES_HEADER)
            except (TimeoutError, aiohttp.ClientError) as error:
                status, body, queries = 0, repr(error).encode(), None
            elapsed = (time.perf_counter() - started) * 1000
            if recording():
                rows = None
                if scenario.lists and status == 200:
                    try:
                        rows = len(orjson.loads(body).get("results") or [])
                    except (ValueError, AttributeError):
                        rows = None
                record(status, elapsed, queries, body, rows)
            if scenario.parses_body or status != 200:
                try:
                    scenario.answered(state, status, body)
                except ValueError:
                    scenario.answered(state, 0, b"")


async def _run(base_url, scenario, connections, warmup, seconds, count):
    latencies, queries, statuses, nonempty = [], [], {}, []
    errors, first_error = 0, ""
    started = time.monotonic()
    measure_from = started + warmup
    done = {"n": 0, "end": None}

    def recording():
        return time.monotonic() >= measure_from

    def stop():
        now = time.monotonic()
        if count is not None:
            return now >= measure_from and done["n"] >= count
        return now >= measure_from + seconds

    def record(status, elapsed, header, body, rows):
        nonlocal errors, first_error
        if count is not None and done["n"] >= count:
            return
        done["n"] += 1
        statuses[status] = statuses.get(status, 0) + 1
        latencies.append(elapsed)
        if header is not None:
            queries.append(int(header))
            if rows:
                nonempty.append(int(header))
        if not 200 <= status < 300:
            errors += 1
            if not first_error:
                first_error = f"{status}: {body[:300].decode(errors='replace')}"

    await asyncio.gather(*(_connection(n, base_url, scenario, stop, record, recording) for n in range(connections)))
    measured = time.monotonic() - measure_from
    return Result(done["n"], errors, measured, latencies, queries, statuses, first_error, nonempty)


def run(
    base_url: str,
    scenario: Scenario,
    *,
    connections: int = 8,
    warmup: float = 2.0,
    seconds: float = 10.0,
    count: int | None = None,
) -> Result:
    """Drive ``scenario`` against ``base_url``: ``seconds`` of measurement after ``warmup``, or — with
    ``count`` — until that many answers were recorded."""
    return asyncio.run(_run(base_url, scenario, connections, warmup, seconds, count))
