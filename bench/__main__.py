"""`make bench`: load a firm-sized dataset, time the beat sweepers on it, EXPLAIN the top endpoints' SQL,
serve the app the production way (gunicorn, bench/settings.py) next to a raw-SQL reference, drive both
with a closed-loop load generator, and print one table; the results go to bench/results/<day>-scale-<s>.json.

Environment: BENCH_SCALE (default 1.0), BENCH_SECONDS per endpoint (default 10), BENCH_WARMUP (2),
BENCH_CONNECTIONS (8), BENCH_RSS_REQUESTS (10000), BENCH_WORKERS / BENCH_THREADS (2 / 4),
BENCH_DATABASE (renocrm_bench), BENCH_REDIS_URL (redis://127.0.0.1:6379/14), BENCH_ONLY (endpoints whose
name contains one of these comma-separated words, e.g. "search,agenda": only those are measured, without the
sweepers, EXPLAIN, page-size and memory runs — for working on one endpoint; its results file says so)."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import secrets
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

SCALE = float(os.environ.get("BENCH_SCALE", "1.0"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = float(os.environ.get("BENCH_WARMUP", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
RSS_REQUESTS = int(os.environ.get("BENCH_RSS_REQUESTS", "10000"))
DATABASE = os.environ.get("BENCH_DATABASE", "renocrm_bench")
ONLY = tuple(word.strip() for word in os.environ.get("BENCH_ONLY", "").split(",") if word.strip())
SAMPLE = 500  # lead and worksite ids the detail and progress requests cycle through
# Settings only this process changes, with their values before: the servers get those back.
_OWN_SETTINGS: dict[str, str | None] = {}


def _configure() -> None:
    from bench.servers import bench_environment

    os.environ.setdefault("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    # The servers and this process sign sessions with the same key.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.update(bench_environment(DATABASE))
    # This process sends what its sweeps queue (Celery runs eagerly here): to memory, not the console.
    _OWN_SETTINGS.update({key: os.environ.get(key) for key in ("SMS_BACKEND", "EMAIL_BACKEND")})
    os.environ["SMS_BACKEND"] = "renocrm.outbox.sms.LocmemBackend"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    # WhiteNoise wants STATIC_ROOT to exist; the bench renders pages but fetches no assets.
    (Path(__file__).resolve().parent.parent / "var" / "static").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    # One line per eager task would bury the table.
    logging.getLogger("celery.app.trace").setLevel(logging.WARNING)


def _say(message: str) -> None:
    print(message, flush=True)


def _endpoints(name: str, firm, dataset, cookies: dict) -> list[tuple[str, object, str | None]]:
    """(endpoint, scenario, matching reference) for one firm."""
    from bench.loadgen import CreateLeads, FollowNext, Paths

    api = {"Authorization": f"Api-Key {firm.api_key}"}
    rng = random.Random(firm.tenant_id)
    leads = rng.sample(firm.lead_ids, min(SAMPLE, len(firm.lead_ids)))
    worksites = rng.sample(firm.worksite_ids, min(SAMPLE, len(firm.worksite_ids)))
    day = dataset.bench_day.isoformat()
    found = [
        ("api lead list", FollowNext("/api/v1/leads/?page_size=50", api), "reference lead list"),
        ("api lead detail", Paths([f"/api/v1/leads/{pk}/" for pk in leads], api), "reference lead detail"),
        ("api lead create", CreateLeads("/api/v1/leads/", api), None),
    ]
    if worksites:
        paths = [f"/api/v1/progress-updates/?worksite={pk}" for pk in worksites]
        found.append(("api worksite progress", Paths(paths, api, lists=True), None))
    found += [
        (
            "api callbacks due today",
            Paths([f"/api/v1/callbacks/?due_on__gte={day}&due_on__lte={day}"], api, lists=True),
            "reference callbacks due today",
        ),
        ("page lead list", Paths(["/leads/"], cookies["sales"]), None),
        ("page callback queue", Paths(["/callbacks/"], cookies["cs"]), None),
        ("page dashboard", Paths(["/"], cookies["admin"]), None),
        # A week of the agenda: the customer manager's follow-ups, the agent's callbacks (queries per kind).
        ("page agenda week", Paths(["/agenda/?view=week"], cookies["sales"]), None),
        ("api agenda", Paths(["/api/v1/agenda/"], cookies["cs"]), None),
        # The header's search: last four digits of a mobile, a name, a compound, a contract number's part.
        ("api search", Paths(_search_paths(rng), api), None),
        (
            "page search",
            Paths([path.replace("/api/v1/search/", "/search/") for path in _search_paths(rng)], cookies["admin"]),
            None,
        ),
    ]
    return found


def _wanted(name: str) -> bool:
    return not ONLY or any(word in name for word in ONLY)


def _search_paths(rng) -> list[str]:
    from urllib.parse import quote

    from bench.dataset import COMMUNITIES, GIVEN, SURNAMES

    queries = [f"{rng.randrange(10000):04d}" for _ in range(20)]
    queries += [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(20)]
    queries += [rng.choice(COMMUNITIES) for _ in range(10)] + ["HT-2"]
    return [f"/api/v1/search/?q={quote(query)}" for query in queries]


def _references(firm, dataset) -> list[tuple[str, object]]:
    from bench.loadgen import FollowNext, Paths

    rng = random.Random(firm.tenant_id)
    leads = rng.sample(firm.lead_ids, min(SAMPLE, len(firm.lead_ids)))
    day = dataset.bench_day.isoformat()
    due = f"/callbacks/?firm={firm.tenant_id}&due_on__gte={day}&due_on__lte={day}"
    return [
        ("reference lead list", FollowNext(f"/leads/?firm={firm.tenant_id}&page_size=50")),
        ("reference lead detail", Paths([f"/leads/{pk}/?firm={firm.tenant_id}" for pk in leads])),
        ("reference callbacks due today", Paths([due], lists=True)),
    ]


def _row(
    endpoint: str, firm: str, result, server, reference: str | None = None, *, is_reference=False, scenario_lists=False
) -> dict:
    memory = server.memory()
    return {
        "endpoint": endpoint,
        "firm": firm,
        "reference": is_reference,
        "compared_with": reference,
        "requests": result.requests,
        "seconds": round(result.seconds, 2),
        "rps": round(result.rps, 1),
        "p50_ms": None if result.percentile(0.5) is None else round(result.percentile(0.5), 2),
        "p99_ms": None if result.percentile(0.99) is None else round(result.percentile(0.99), 2),
        "queries": result.queries_per_request,
        "queries_with_rows": result.queries_with_rows if scenario_lists else None,
        "errors": result.errors,
        "statuses": result.statuses,
        "first_error": result.first_error,
        "peak_rss_mb": [values.get("VmHWM", 0.0) for values in memory.values()],
        "ratio": None,
    }


def _explain(dataset, cookies_by_firm) -> list[dict]:
    from bench.explain import explain_endpoint
    from renocrm.tenancy.models import Tenant

    firm = dataset.largest
    tenant = Tenant.objects.get(pk=firm.tenant_id)
    api = {"HTTP_AUTHORIZATION": f"Api-Key {firm.api_key}"}
    cookies = cookies_by_firm["largest"]
    day = dataset.bench_day.isoformat()

    def cookie(role):
        return {"HTTP_COOKIE": cookies[role]["Cookie"]}

    first_cursor = None
    checks = [
        ("api lead list", "/api/v1/leads/?page_size=50", api),
        ("api lead detail", f"/api/v1/leads/{firm.lead_ids[len(firm.lead_ids) // 2]}/", api),
        ("api callbacks due today", f"/api/v1/callbacks/?due_on__gte={day}&due_on__lte={day}", api),
        ("page lead list", "/leads/", cookie("sales")),
        ("page callback queue", "/callbacks/", cookie("cs")),
        ("page dashboard", "/", cookie("admin")),
        ("page agenda week", "/agenda/?view=week", cookie("sales")),
        ("api agenda", "/api/v1/agenda/", cookie("cs")),
        ("api search (last four digits)", "/api/v1/search/?q=5678", api),
        ("api search (name)", "/api/v1/search/?q=%E7%8E%8B%E8%8A%B3", api),
    ]
    if firm.worksite_ids:
        path = f"/api/v1/progress-updates/?worksite={firm.worksite_ids[0]}"
        checks.insert(2, ("api worksite progress", path, api))
    found = []
    for name, path, headers in checks:
        found.append(explain_endpoint(tenant, name, path, **headers))
        if name == "api lead list" and first_cursor is None:
            first_cursor = _deep_cursor(path, headers)
    if first_cursor:
        found.insert(1, explain_endpoint(tenant, "api lead list (deep page)", first_cursor, **api))
    body = {"name": "EXPLAIN 客户", "mobile": f"17{random.randrange(10**9):09d}"}
    found.append(
        explain_endpoint(
            tenant,
            "api lead create",
            "/api/v1/leads/",
            method="post",
            data=body,
            HTTP_IDEMPOTENCY_KEY=secrets.token_hex(16),
            **api,
        )
    )
    return found


def _deep_cursor(path: str, headers: dict, pages: int = 10) -> str | None:
    """The path of the lead list ``pages`` pages deep, following ``next``."""
    from urllib.parse import urlsplit

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    for _ in range(pages):
        following = client.get(path, **headers).json().get("next")
        if not following:
            break
        parts = urlsplit(following)
        path = f"{parts.path}?{parts.query}"
    return path


def _recorded_load_seconds() -> float | None:
    """How long the reused dataset took to load, as the loader noted it in the database."""
    from django.db import DatabaseError, connections

    try:
        with connections["owner"].cursor() as cursor:
            cursor.execute("SELECT load_seconds FROM bench_dataset WHERE id = 1")
            row = cursor.fetchone()
    except DatabaseError:
        return None
    return float(row[0]) if row and row[0] is not None else None


def _memory_snapshot(server) -> dict[int, float]:
    return {pid: values.get("VmRSS", 0.0) for pid, values in server.memory().items()}


def main() -> int:
    _configure()
    from bench import report, servers, sweeps
    from bench.load import ensure_dataset, rearm_sweeps
    from bench.loadgen import FollowNext, run
    from bench.sessions import cookie_header

    started = time.monotonic()
    _say(
        f"bench: scale {SCALE:g}, database {DATABASE}, {SECONDS:g} s per endpoint after {WARMUP:g} s warm-up, "
        f"{CONNECTIONS} connections"
    )
    dataset = ensure_dataset(SCALE, database=DATABASE)
    recorded = dataset.load_seconds if dataset.load_seconds is not None else _recorded_load_seconds()
    loaded = f"loaded in {dataset.load_seconds:.1f} s" if dataset.load_seconds is not None else "reused"
    if dataset.load_seconds is None and recorded is not None:
        loaded += f" (its load took {recorded:.1f} s)"
    shown = ("firms", "leads_customer", "leads_lead", "callbacks_callback", "due_callbacks", "audit_auditevent")
    counts = ", ".join(f"{key} {dataset.counts[key]:,}" for key in shown if key in dataset.counts)
    _say(f"dataset: {loaded}; {counts}")

    _say("sweepers: re-arming and timing on the bench day …")
    sweep_results = {} if ONLY else sweeps.time_sweepers(dataset, rearm_sweeps)
    for key in () if ONLY else ("callbacks", "warranty_reminders", "complaint_escalations"):
        item = sweep_results.get(key, {})
        _say(
            f"  {key}: {item.get('rows')} rows in {item.get('seconds')} s "
            f"({item.get('seconds_without_deliveries')} s without inline deliveries); "
            f"second run {item.get('second_run_rows')} rows"
        )

    firms = {"largest": dataset.largest, "small": dataset.small}
    cookies = {
        key: {
            "sales": cookie_header(firm.sales_username, firm.tenant_id),
            "cs": cookie_header(firm.cs_username, firm.tenant_id),
            "admin": cookie_header(firm.admin_username, firm.tenant_id),
        }
        for key, firm in firms.items()
    }
    _say("explain: top endpoints of the largest firm …")
    explained = [] if ONLY else _explain(dataset, cookies)
    for item in explained:
        flagged = ", ".join(sorted({f"{miss['table']} ({miss['rows']:,} rows)" for miss in item["no_index"]}))
        note = f"; no index: {flagged}" if flagged else ""
        if item["costly"]:
            note += f"; costly plans: {', '.join(str(c['cost']) for c in item['costly'])}"
        _say(f"  {item['endpoint']}: {item['status']}, {item['selects']} SELECTs explained{note}")

    web = servers.app_server({key: os.environ[key] for key in servers.bench_environment(DATABASE)})
    for key, value in _OWN_SETTINGS.items():
        if value is None:
            web.env.pop(key, None)
        else:
            web.env[key] = value
    reference = servers.reference_server(DATABASE)
    rows, page_sizes, rss = [], {}, {}
    try:
        _say(f"servers: gunicorn {servers.WORKERS} gthread workers × {servers.THREADS} threads each; starting …")
        web.start("/healthz")
        reference.start(f"/leads/?firm={dataset.small.tenant_id}&page_size=1")

        def measure(base_url, scenario):
            return run(base_url, scenario, connections=CONNECTIONS, warmup=WARMUP, seconds=SECONDS)

        def warm(base_url, scenario):
            run(base_url, scenario, connections=CONNECTIONS, warmup=0, seconds=0, count=4 * CONNECTIONS)

        # Every worker thread through every endpoint once before anything is measured: the first requests
        # of a fresh worker (connections, imports, templates) belong to no endpoint in particular.
        for key, firm in firms.items():
            for name, scenario in _references(firm, dataset):
                if _wanted(name):
                    warm(reference.base_url, scenario)
            for name, scenario, _compared in _endpoints(key, firm, dataset, cookies[key]):
                if _wanted(name):
                    warm(web.base_url, scenario)

        for key, firm in firms.items():
            for name, scenario in _references(firm, dataset):
                if not _wanted(name):
                    continue
                row = _row(name, key, measure(reference.base_url, scenario), reference, is_reference=True)
                rows.append(row)
                _say(f"  {name} [{key}]: {row['rps']:.0f} req/s, p99 {row['p99_ms']} ms")
            for name, scenario, compared in _endpoints(key, firm, dataset, cookies[key]):
                if not _wanted(name):
                    continue
                row = _row(name, key, measure(web.base_url, scenario), web, compared, scenario_lists=scenario.lists)
                rows.append(row)
                _say(
                    f"  {name} [{key}]: {row['rps']:.0f} req/s, p99 {row['p99_ms']} ms, "
                    f"{row['queries']['median']} queries, {row['errors']} errors"
                    + (f" — first: {row['first_error']}" if row["first_error"] else "")
                )
        # The search and the agenda as one person waiting at the page sees them: one request at a time.
        largest = dataset.largest
        for name, scenario, _compared in _endpoints("largest", largest, dataset, cookies["largest"]):
            if name in report.WORKBENCH_ENDPOINTS and _wanted(name):
                result = run(web.base_url, scenario, connections=1, warmup=WARMUP, seconds=SECONDS)
                row = _row(f"{name} (1 connection)", "largest", result, web)
                rows.append(row)
                _say(f"  {row['endpoint']} [largest]: p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms")
        by_name = {(row["endpoint"], row["firm"]): row for row in rows}
        for row in rows:
            if row["reference"]:
                continue
            compared = row["compared_with"] or "reference lead list"
            ref = by_name.get((compared, row["firm"]))
            row["compared_with"] = compared
            row["ratio"] = round(row["rps"] / ref["rps"], 3) if ref and ref["rps"] else None

        api = {"Authorization": f"Api-Key {dataset.largest.api_key}"}
        page_sizes = {"queries": {}}
        for size in () if ONLY else (10, 50):
            result = run(
                web.base_url,
                FollowNext(f"/api/v1/leads/?page_size={size}", api),
                connections=2,
                warmup=0.5,
                seconds=0,
                count=200,
            )
            page_sizes["queries"][size] = result.queries_with_rows["median"]
        _say(f"  lead list SQL by page size: {page_sizes['queries']}")

        if not ONLY:
            rss = _steady_memory(web, api, run, FollowNext)
    finally:
        web.stop()
        reference.stop()
        _drop_queued_tasks()

    found = report.targets(rows, sweeps=sweep_results, page_sizes=page_sizes, rss=rss, scale=SCALE)
    result = {
        "run_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": report.machine(),
        "scale": SCALE,
        "database": DATABASE,
        "bench_day": dataset.bench_day.isoformat(),
        "load_seconds": dataset.load_seconds,
        "recorded_load_seconds": recorded,
        "counts": dataset.counts,
        "firms": {
            key: {"tenant_id": firm.tenant_id, "slug": firm.slug, "customers": firm.customers}
            for key, firm in firms.items()
        },
        "config": {
            "seconds": SECONDS,
            "warmup": WARMUP,
            "connections": CONNECTIONS,
            "gunicorn": servers.worker_config(),
            "page_size": 50,
        },
        "endpoints": rows,
        "page_size_queries": page_sizes,
        "rss_steady": rss,
        "sweeps": sweep_results,
        "explain": explained,
        "targets": found,
        "bench_seconds": round(time.monotonic() - started, 1),
    }
    if ONLY:
        result["only"] = list(ONLY)
    path = report.write(result, scale=SCALE, suffix="-only" if ONLY else "")
    _say("")
    _say(report.text_table(rows))
    _say("")
    _say(report.targets_text(found))
    missing = [(item["endpoint"], miss["table"]) for item in explained for miss in item["no_index"]]
    _say("no index: " + (", ".join(f"{table} ({endpoint})" for endpoint, table in missing) if missing else "none"))
    _say(f"\nwritten: {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    if ONLY:
        return 0
    # Webhook delivery latency: a real worker and a small database of its own, in its own process.
    _say("")
    return subprocess.run([sys.executable, "-m", "bench.webhooks"], check=False).returncode


def _steady_memory(web, api, run, FollowNext) -> dict:
    """The web workers' resident memory before and after RSS_REQUESTS lead-list requests."""
    before = _memory_snapshot(web)
    _say(f"  RSS: {RSS_REQUESTS:,} lead-list requests …")
    result = run(
        web.base_url,
        FollowNext("/api/v1/leads/?page_size=50", api),
        connections=CONNECTIONS,
        warmup=0,
        seconds=0,
        count=RSS_REQUESTS,
    )
    after = _memory_snapshot(web)
    workers = {
        pid: {"before": before[pid], "after": after[pid], "growth": round(after[pid] / before[pid] - 1, 4)}
        for pid in before
        if pid in after and before[pid]
    }
    return {
        "requests": result.requests,
        "errors": result.errors,
        "workers": workers,
        "max_growth": max((values["growth"] for values in workers.values()), default=None),
        "restarted_workers": sorted(set(before) ^ set(after)),
    }


def _drop_queued_tasks() -> None:
    """The servers queue their events' tasks in the bench's own Redis database, where no worker runs:
    drop them so the queue does not grow run after run."""
    import redis

    with contextlib.suppress(redis.RedisError):
        redis.Redis.from_url(os.environ["BENCH_REDIS_URL"]).delete("celery", "webhooks")


if __name__ == "__main__":
    from bench.servers import ServerError

    try:
        sys.exit(main())
    except ServerError as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
