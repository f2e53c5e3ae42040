"""Starting and stopping the gunicorn servers the bench measures, and reading their workers' memory.

Both servers — the app and the reference — get the same worker configuration: ``gthread``, 2 workers of
4 threads on this 2-core machine (BENCH_WORKERS / BENCH_THREADS). One process per core runs Python; the
threads overlap each request's wait on PostgreSQL and keep the load generator's connections alive (a sync
worker closes the connection after every response). 2 × 4 threads serve the 8 connections without queueing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "var" / "bench"
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
THREADS = int(os.environ.get("BENCH_THREADS", "4"))
READY_SECONDS = 60


class ServerError(RuntimeError):
    """A server did not start or answer; the message says which and where its log is."""


def free_port() -> int:
    """A loopback port nobody listens on now (the bench's servers and the fault drills' private ones)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def worker_config() -> dict:
    return {"worker_class": "gthread", "workers": WORKERS, "threads": THREADS}


@dataclass
class Server:
    name: str
    app: str
    env: dict
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return LOG_DIR / f"{self.name}.log"

    def start(self, ready_path: str) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            self.app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--worker-class",
            "gthread",
            "--workers",
            str(WORKERS),
            "--threads",
            str(THREADS),
            "--keep-alive",
            "75",
            "--timeout",
            "120",
            "--chdir",
            str(ROOT),
        ]
        log = self.log_path.open("wb")
        # Its own process group, so stopping it takes the workers along whatever happens to the bench.
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self._wait_ready(ready_path)

    def _wait_ready(self, path: str) -> None:
        deadline = time.monotonic() + READY_SECONDS
        last_error = ""
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(f"{self.name} server exited with {self.process.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base_url + path, timeout=5) as response:  # noqa: S310 (loopback)
                    if response.status == 200 and len(self.worker_pids()) >= WORKERS:
                        return
            except (urllib.error.URLError, OSError) as error:
                last_error = str(error)
            time.sleep(0.3)
        raise ServerError(
            f"{self.name} server did not answer {path} within {READY_SECONDS} s ({last_error}); see {self.log_path}"
        )

    def worker_pids(self) -> list[int]:
        if self.process is None:
            return []
        return sorted(pid for pid in _children(self.process.pid))

    def memory(self) -> dict[int, dict[str, float]]:
        """Each worker's resident memory now (VmRSS) and at its peak (VmHWM), in MB."""
        return {pid: _vm(pid) for pid in self.worker_pids()}

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        except ProcessLookupError:
            pass


def _children(parent: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:"):
                if int(line.split()[1]) == parent:
                    pids.append(int(entry.name))
                break
    return pids


def _vm(pid: int) -> dict[str, float]:
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = round(int(rest.split()[0]) / 1024, 1)
    except OSError:
        pass
    return values


def database_urls(database: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgres://renocrm_app:renocrm_app@127.0.0.1:5432/{database}",
        "DATABASE_OWNER_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
    }


def bench_environment(database: str, *, site_url: str = "http://127.0.0.1") -> dict[str, str]:
    """What the production settings require, for plain HTTP on loopback against the bench database."""
    return {
        **database_urls(database),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "SITE_URL": site_url,
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "DATABASE_CONN_MAX_AGE": "600",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        # Shared Redis: the bench's cache and throttle keys stay apart from anybody else's.
        "CACHE_KEY_PREFIX": "renocrm-bench",
        # The throttle still counts every request in Redis; the limit just never refuses the load generator.
        "API_KEY_RATE": "1000000/min",
    }


def app_server(environment: dict[str, str]) -> Server:
    server = Server("web", "renocrm.wsgi:application", {})
    server.env = {**os.environ, **environment, "SITE_URL": server.base_url}
    return server


def reference_server(database: str) -> Server:
    env = {**os.environ, "REFERENCE_DATABASE_URL": database_urls(database)["DATABASE_OWNER_URL"]}
    return Server("reference", "bench.reference:application", env)
