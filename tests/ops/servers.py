"""Private servers for the fault drills: a PostgreSQL cluster, a Redis, a PgBouncer, gunicorn and a Celery
worker, each on a free loopback port, in its own process group, with its log in the drill's directory.

The shared PostgreSQL and Redis of the machine are never stopped: a drill that restarts or stops a server
starts its own. Every ``start`` waits until the server answers (or raises with the log's tail), and every
``stop`` is safe to call twice, so fixtures stop whatever they started in their finalizers.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from bench.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")
READY_SECONDS = 60


class DrillError(RuntimeError):
    """A private server did not start or stop; the message names it and quotes its log."""


def wait_until(check, *, what: str, timeout: float = READY_SECONDS, log: Path | None = None, interval=0.2):
    """Poll ``check()`` until it returns a true value (returned); raise DrillError naming ``what`` after
    ``timeout`` seconds. ``check`` may raise OSError while the server is not up yet."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            result = check()
        except OSError as error:
            result, last = None, str(error)
        if result:
            return result
        time.sleep(interval)
    raise DrillError(f"{what} not ready within {timeout:.0f} s ({last}){tail(log)}")


def tail(log: Path | None, lines: int = 30) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return f"\n--- last lines of {log} ---\n" + "\n".join(text)


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def database_url(user: str, port: int, name: str, password: str = "", host: str = "127.0.0.1") -> str:
    secret = f":{quote(password)}" if password else ""
    return f"postgres://{user}{secret}@{host}:{port}/{name}"


def url_of(database: dict) -> str:
    """A Django DATABASES entry as a URL (the per-process test database, for a server process)."""
    return database_url(database["USER"], database["PORT"] or 5432, database["NAME"], database.get("PASSWORD") or "")


def _as_postgres() -> list[str]:
    # initdb, postgres and pgbouncer refuse to run as root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"]
    return []


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam("postgres")
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class Process:
    """A child in its own process group (so its children go with it), its output in ``log``."""

    name: str
    command: list[str]
    log: Path
    env: dict | None = None
    process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_running(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise DrillError(f"{self.name} exited with {self.process.returncode}{tail(self.log)}")
        return True

    def signal(self, sig: int) -> None:
        if self.running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        if not self.running:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)


class Workdir:
    """A temporary directory the postgres user may use (pytest's tmp_path is private to root)."""

    def __init__(self, prefix: str):
        self.path = Path(tempfile.mkdtemp(prefix=f"renocrm-{prefix}-"))
        self.path.chmod(0o755)
        _give_to_postgres(self.path)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


class PrivatePostgres:
    """A throw-away PostgreSQL 15 cluster (trust authentication, no fsync) on a free port."""

    def __init__(self):
        self.workdir = Workdir("pg")
        self.data = self.workdir.path / "data"
        self.log = self.workdir.path / "postgres.log"
        self.port = free_port()

    def _pg(self, *args: str, timeout: float = 90) -> None:
        command = [*_as_postgres(), str(PG_BIN / args[0]), *args[1:]]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=self.workdir.path)
        if result.returncode != 0:
            raise DrillError(f"{' '.join(args[:2])} failed: {result.stderr or result.stdout}{tail(self.log)}")

    def start(self) -> PrivatePostgres:
        if not self.data.exists():
            self._pg(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
        options = (
            f"-p {self.port} -k {self.workdir.path} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=on -c full_page_writes=off -c max_connections=60"
        )
        self._pg("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        finally:
            self.workdir.remove()

    def url(self, user: str = "postgres", database: str = "postgres", password: str = "") -> str:
        return database_url(user, self.port, database, password)


class PrivateRedis:
    """A redis-server without persistence on a free port; ``stop`` and ``start`` again keep the port."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        command = ["/usr/bin/redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--dir", str(self.workdir)]
        self.process = Process("redis-server", command, self.workdir / "redis.log")
        self.process.start()
        wait_until(
            lambda: self.process.check_running() and port_open(self.port), what="redis-server", log=self.process.log
        )
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
        wait_until(lambda: not port_open(self.port), what="redis-server to stop", timeout=20)


class PrivatePgBouncer:
    """PgBouncer in transaction mode in front of the shared PostgreSQL, with a pool smaller than the number of
    clients, so one server connection carries transactions of several clients (and firms) in turn."""

    def __init__(self, workdir: Path, *, user: str, password: str, upstream_port: int, pool_size: int = 2):
        self.port = free_port()
        self.workdir = workdir
        self.config = workdir / "pgbouncer.ini"
        self.log = workdir / "pgbouncer.log"
        auth = workdir / "userlist.txt"
        auth.write_text(f'"{user}" "{password}"\n')
        self.config.write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host=127.0.0.1 port={upstream_port}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {auth}",
                    f"admin_users = {user}",
                    "pool_mode = transaction",
                    f"default_pool_size = {pool_size}",
                    "min_pool_size = 0",
                    "reserve_pool_size = 0",
                    "max_client_conn = 200",
                    "ignore_startup_parameters = extra_float_digits,options",
                    f"logfile = {self.log}",
                    f"pidfile = {workdir / 'pgbouncer.pid'}",
                    "",
                ]
            )
        )
        for path in (auth, self.config):
            _give_to_postgres(path)
        self.user = user
        self.process: Process | None = None

    def server_connections(self, database: str) -> int:
        """How many server connections PgBouncer holds to ``database`` (its admin console's SHOW SERVERS)."""
        import psycopg2

        console = psycopg2.connect(host="127.0.0.1", port=self.port, dbname="pgbouncer", user=self.user)
        console.autocommit = True  # the console takes no transactions
        try:
            with console.cursor() as cursor:
                cursor.execute("SHOW SERVERS")
                at = [column.name for column in cursor.description].index("database")
                return sum(1 for row in cursor.fetchall() if row[at] == database)
        finally:
            console.close()

    def start(self) -> PrivatePgBouncer:
        binary = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
        if not Path(binary).exists():
            raise DrillError("pgbouncer is not installed: run `bash scripts/ensure-pgbouncer.sh` (make test does)")
        self.process = Process("pgbouncer", [*_as_postgres(), binary, str(self.config)], self.workdir / "stdout.log")
        self.process.start()
        wait_until(lambda: self.process.check_running() and port_open(self.port), what="pgbouncer", log=self.log)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


def server_environment(*, secret_key: str, database_url: str, owner_url: str, redis_url: str, **extra: str) -> dict:
    """The production settings (tests/ops/drill_settings.py) on plain HTTP, with persistent, health-checked
    connections, against the given servers. ``secret_key``: the test's, so the sessions it creates sign in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE", "REDIS", "CELERY", "DJANGO"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.ops.drill_settings",
            "SECRET_KEY": secret_key,
            "SITE_URL": "http://127.0.0.1",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "DATABASE_URL": database_url,
            "DATABASE_OWNER_URL": owner_url,
            "DATABASE_CONN_MAX_AGE": "600",
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": f"renocrm-drill-{os.getpid()}",
            "LOG_LEVEL": "WARNING",
            # The drills are not about rate limits: the throttle still counts in Redis, it never refuses.
            "API_KEY_RATE": "1000000/min",
            **extra,
        }
    )
    return env


@dataclass
class Gunicorn:
    """The app under gunicorn: 2 workers of 4 threads, like production on a small machine."""

    env: dict
    workdir: Path
    name: str = "gunicorn"
    port: int = field(default_factory=free_port)
    process: Process | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> Gunicorn:
        command = [str(BIN / "gunicorn"), "renocrm.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", "2", "--worker-class", "gthread", "--threads", "4", "--timeout", "60"]
        command += ["--graceful-timeout", "5", "--keep-alive", "5", "--chdir", str(ROOT)]
        self.process = Process(self.name, command, self.log, env=self.env)
        self.process.start()

        def answers():
            self.process.check_running()
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=5) as response:  # noqa: S310
                return response.status == 200

        wait_until(answers, what=self.name, log=self.log)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class CeleryWorker:
    env: dict
    workdir: Path
    queues: str = "celery,webhooks"  # both queues, as `make run` and the compose file's workers take them
    imports: tuple[str, ...] = ()
    name: str = "celery-worker"
    process: Process | None = None

    @property
    def log(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> CeleryWorker:
        command = [str(BIN / "celery"), "-A", "renocrm", "worker", "--pool=solo", "-Q", self.queues]
        command += ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"]
        for module in self.imports:
            command += ["-I", module]
        self.process = Process(self.name, command, self.log, env=self.env)
        self.process.start()
        wait_until(
            lambda: self.process.check_running() and "ready." in self.log.read_text(errors="replace"),
            what=self.name,
            log=self.log,
        )
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


@dataclass
class Reply:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect is an answer to check (a lost session sends a page to the sign-in form), not to follow.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def request(base_url: str, method: str, path: str, *, body=None, headers=None, timeout: float = 30) -> Reply:
    """One HTTP request; an HTTP error status is a Reply too (only a broken connection raises)."""
    data = json.dumps(body).encode() if body is not None else None
    all_headers = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
    call = urllib.request.Request(base_url + path, data=data, method=method, headers=all_headers)  # noqa: S310
    try:
        with _opener.open(call, timeout=timeout) as response:
            return Reply(response.status, dict(response.headers), response.read())
    except urllib.error.HTTPError as error:
        return Reply(error.code, dict(error.headers), error.read())
