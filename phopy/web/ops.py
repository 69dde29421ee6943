"""For operators: GET /health, /health/live, /health/ready, GET /metrics, request counting.

- ``/health/live``: the process answers (nothing else is checked).
- ``/health/ready``: this web machine can serve: the database answers, the photo
  storage answers (and Redis, when used). It does not depend on any job running,
  so a load balancer can use it without taking every web machine out while the
  workers are busy or restarting.
- ``/health``: the same plus the jobs: a recent heartbeat of a job runner or a
  Celery worker, and of Celery Beat under ``JOB_RUNNER=celery``; it names the
  part that is missing.

Answers say which part failed and why in a word; the figures (free space,
heartbeat ages, runner ids, which name host and pid) are shown only to an
operator who sends the METRICS_TOKEN as a bearer token. Nothing is written on a
call.
"""
import hmac
import logging
import time

from flask import Blueprint, Response, current_app, g, jsonify, request

from phopy import metrics
from phopy.data import get_database, get_db
from phopy.data import health as health_db
from phopy.data import runners as runners_db
from phopy.errors import N_
from phopy.extensions import get_storage
from phopy.web.errors import render_error

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)


def check_database():
    """The database answers a query."""
    health_db.ping(get_db())
    return {"ok": True}


def check_storage():
    """The photo storage answers (a bucket with these credentials, or a writable folder
    with enough free space); nothing is written."""
    storage = get_storage()
    storage.check()
    result = {"ok": True, "backend": storage.backend}
    if storage.backend == "file":
        free_mb = storage.free_bytes() // (1024 * 1024)
        needed = current_app.config["HEALTH_MIN_FREE_MB"]
        result.update(ok=free_mb >= needed, free_mb=free_mb, min_free_mb=needed)
        if free_mb < needed:
            result["error"] = "low disk space"
    return result


def _heartbeat(conn, roles, what, max_age):
    latest = runners_db.latest(conn, roles)
    if latest is None:
        return {"ok": False, "error": f"no {what} has started"}
    age = round(max(latest["age"], 0.0), 1)
    result = {"ok": age <= max_age, "last_heartbeat_seconds_ago": age, "id": latest["id"]}
    if age > max_age:
        result["error"] = f"no {what} heartbeat for {age:.0f} s"
    return result


def check_jobs():
    """Job runners or Celery workers (and Celery Beat under Celery) sent heartbeats
    recently, by the database's clock."""
    config = current_app.config
    conn, max_age = get_db(), config["HEALTH_RUNNER_MAX_AGE"]
    parts = {"workers": _heartbeat(conn, ("runner", "worker"), "job runner or worker", max_age)}
    if config["JOB_RUNNER"] == "celery" and config.get("JOB_SCHEDULE", True):
        parts["beat"] = _heartbeat(conn, ("beat",), "Celery beat", max_age)
    missing = [name for name, part in parts.items() if not part["ok"]]
    result = {"ok": not missing, **parts}
    if missing:
        result["missing"] = missing
        result["error"] = "; ".join(parts[name]["error"] for name in missing)
    return result


def check_redis():
    """Redis (REDIS_URL) answers PING."""
    import redis
    client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2,
                                  socket_connect_timeout=2)
    client.ping()
    return {"ok": True}


_PUBLIC = {"ok", "error", "missing", "backend"}  # what anyone may see of a check


def _public(result):
    shown = {k: v for k, v in result.items() if k in _PUBLIC}
    for name, part in result.items():
        if isinstance(part, dict):
            shown[name] = _public(part)
    return shown


def _run(checks):
    results = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as exc:
            log.warning("health check %s failed: %s", name, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
    failing = [name for name, result in results.items() if not result["ok"]]
    if not _operator():
        results = {name: _public(result) for name, result in results.items()}
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": results}
    return jsonify(body), (503 if failing else 200)


def _ready_checks():
    checks = {"database": check_database, "storage": check_storage}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = check_redis
    return checks


def _operator():
    """The caller sent the METRICS_TOKEN (an operator or a metrics scraper)."""
    token = current_app.config.get("METRICS_TOKEN")
    return bool(token) and _metrics_allowed(token)


@bp.route("/health/live")
def health_live():
    """200 while this process answers."""
    return jsonify({"status": "ok"})


@bp.route("/health/ready")
def health_ready():
    """200 when this web machine can serve (database, storage, Redis); jobs are not asked."""
    return _run(_ready_checks())


@bp.route("/health")
def health():
    """200 when every part works, jobs included, else 503 naming the parts that failed."""
    return _run({**_ready_checks(), "jobs": check_jobs})


def _metrics_allowed(token):
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    return hmac.compare_digest(given.encode(), token.encode())


@bp.route("/metrics")
def prometheus_metrics():
    """Prometheus metrics; off unless METRICS_TOKEN is set, then sent as a bearer token."""
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        return render_error(404, "not_found", N_("Metrics are off: set METRICS_TOKEN."))
    if not _metrics_allowed(token):
        return render_error(401, "unauthorized", N_("Send the metrics token as "
                                                    "Authorization: Bearer <token>."))
    body, content_type = metrics.render(get_database())
    return Response(body, content_type=content_type)


@bp.before_app_request
def _start_timer():
    g.request_started = time.monotonic()


@bp.after_app_request
def _count_request(response):
    started = g.get("request_started")
    metrics.count_request(request.endpoint, request.method, response.status_code,
                          None if started is None else time.monotonic() - started)
    return response
