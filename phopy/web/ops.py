"""For operators: GET /health and GET /metrics (Prometheus), and request counting."""
import hmac
import logging
import shutil
import time
import uuid
from pathlib import Path

from flask import Blueprint, Response, current_app, g, jsonify, request

from phopy import metrics
from phopy.data import get_database, get_db
from phopy.data import health as health_db
from phopy.data import runners as runners_db
from phopy.data.timeutil import unix_now
from phopy.errors import N_
from phopy.web.errors import render_error

log = logging.getLogger(__name__)
bp = Blueprint("ops", __name__)


def check_database():
    """The database answers a query."""
    health_db.ping(get_db())
    return {"ok": True}


def check_data_dir():
    """The data folder takes a write and has enough free space."""
    folder = Path(current_app.config["DATA_DIR"])
    probe = folder / f".health-{uuid.uuid4().hex}"
    probe.write_bytes(b"ok")
    probe.unlink()
    free_mb = shutil.disk_usage(folder).free // (1024 * 1024)
    needed = current_app.config["HEALTH_MIN_FREE_MB"]
    return {"ok": free_mb >= needed, "free_mb": free_mb, "min_free_mb": needed,
            **({} if free_mb >= needed else {"error": "low disk space"})}


def check_runner():
    """A job runner sent a heartbeat recently."""
    latest = runners_db.latest(get_db())
    max_age = current_app.config["HEALTH_RUNNER_MAX_AGE"]
    if latest is None:
        return {"ok": False, "error": "no job runner has started"}
    age = round(unix_now() - latest["heartbeat_at"], 1)
    result = {"ok": age <= max_age, "last_heartbeat_seconds_ago": age, "runner": latest["id"]}
    if age > max_age:
        result["error"] = f"no heartbeat for {age} s"
    return result


def check_redis():
    """Redis (REDIS_URL) answers PING."""
    import redis
    client = redis.Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=2,
                                  socket_connect_timeout=2)
    client.ping()
    return {"ok": True}


@bp.route("/health")
def health():
    """200 when every part works, else 503 naming the parts that failed."""
    checks = {"database": check_database, "data_dir": check_data_dir, "runner": check_runner}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = check_redis
    results = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except Exception as exc:
            log.warning("health check %s failed: %s", name, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
    failing = [name for name, result in results.items() if not result["ok"]]
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": results}
    return jsonify(body), (503 if failing else 200)


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
