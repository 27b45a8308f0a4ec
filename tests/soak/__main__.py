"""`make soak`: the exchange under faults, on its own PostgreSQL and Redis.

Two app nodes (gunicorn and a Celery worker each) and one beat run against them;
bots trade three profiles' one-minute windows over REST on both nodes while a chaos
loop kills processes; then the chaos stops, every window settles, and the checks
run. Writes var/soak/report.md and var/soak/soak.png; exits 1 on any violation.

    SOAK_MINUTES=10 python -m tests.soak      (CI=true: fewer bots)
"""

import logging
import os
import secrets
import shutil
import signal
import sys
import time

from tests.soak.procs import (
    ROOT,
    Fleet,
    Postgres,
    Redis,
    beat_build,
    node_build,
    wait_for,
)

log = logging.getLogger("soak")
BASE = ROOT / "var" / "soak"
PROFILES = ["train", "infer", "hpc"]


def settings_from_env() -> dict:
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    minutes = float(os.environ.get("SOAK_MINUTES", "10"))
    mix = {"buyer": 3, "seller": 3} if ci else {"buyer": 5, "seller": 4}
    return {
        "minutes": minutes,
        "window_minutes": int(os.environ.get("SOAK_WINDOW_MINUTES", "1")),
        "ci": ci,
        "mix": mix | {"mm": 1, "procure": 1, "canceller": 1},
        "seed": int(os.environ.get("SOAK_SEED", str(int(time.time())))),
        "interval_s": 0.5,
        "gunicorn_threads": 4,
    }


def app_env(pg: Postgres, redis: Redis, run, token: str, cfg: dict) -> dict:
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "HOME", "CI")}
    return keep | {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": pg.url("yiwang_soak"),
        "REDIS_URL": redis.url(0),
        "CELERY_BROKER_URL": redis.url(1),
        "DJANGO_SECRET_KEY": secrets.token_hex(32),
        "DJANGO_DEBUG": "false",
        "DJANGO_HTTPS": "false",  # plain http on loopback
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "INTERNAL_TOKEN": token,
        "EXCHANGE_LISTING_WINDOW_MINUTES": str(cfg["window_minutes"]),
        "EXCHANGE_LISTING_WINDOWS_AHEAD": "2",
        "EXCHANGE_LISTING_PROFILES": ",".join(PROFILES),
        "YIWANG_VAR_DIR": str(run),
        "PROMETHEUS_MULTIPROC_DIR": str(run / "prometheus"),
        # A killed worker's task comes back after this; the sweepers cover the rest.
        "CELERY_VISIBILITY_TIMEOUT": "30",
        "LOG_LEVEL": "WARNING",
    }


def _interrupted(signum, frame):
    raise SystemExit(f"soak interrupted by signal {signum}")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    cfg = settings_from_env()
    logs, run = BASE / "logs", BASE / "run"
    for folder in (logs, run):
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
    fleet = Fleet()
    signal.signal(signal.SIGTERM, _interrupted)
    signal.signal(signal.SIGHUP, _interrupted)
    started = time.monotonic()
    try:
        return soak(cfg, fleet, logs, run)
    finally:
        log.info("stopping every process the soak started")
        fleet.stop_all()
        log.info("soak took %.0f s in all", time.monotonic() - started)


def soak(cfg: dict, fleet: Fleet, logs, run) -> int:
    pg, redis = Postgres(BASE, logs), Redis(logs)
    fleet.add(pg.proc, redis.proc)
    pg.init()
    pg.start()
    pg.createdb("yiwang_soak")
    redis.start()
    token = secrets.token_hex(16)
    env = app_env(pg, redis, run, token, cfg)
    os.environ.update(env)
    import django

    django.setup()
    log.setLevel(
        logging.INFO
    )  # the settings' logging config leaves the root at WARNING
    from django.db import connections

    from tests.soak.seed import seed

    log.info("seeding the market (%s)", cfg["mix"])
    specs, deposited = seed(cfg["mix"])
    connections.close_all()
    nodes = [node_build(n, env, logs, cfg["gunicorn_threads"]) for n in ("a", "b")]
    beat = beat_build(env, logs, run)
    for node in nodes:
        fleet.add(node.web, node.worker)
        node.start()
    fleet.add(beat)
    beat.start()
    for node in nodes:
        wait_for(node.answers, f"node {node.name}", timeout=90)
    from tests.soak.phases import Run

    return Run(cfg, nodes, beat, pg, redis, specs, deposited, token, env).go()


if __name__ == "__main__":
    sys.exit(main())
