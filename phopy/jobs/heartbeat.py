"""Heartbeats on a timer, for Celery workers and beat (the in-process runner has its own).

A Celery worker writes its heartbeat every HEALTH_HEARTBEAT_SECONDS whether or
not it runs a task, and beat does the same, so GET /health can say which one is
missing. The row's time is the database's clock (``phopy.data.runners``).
"""
import atexit
import logging
import os
import socket
import threading
import time
import uuid

from phopy.data import runners as runners_db

log = logging.getLogger(__name__)


class Heartbeat:
    """A daemon thread that refreshes one ``runners`` row until stopped."""

    def __init__(self, database, role, every=10.0):
        self.database, self.role, self.every = database, role, max(float(every), 0.5)
        self.host, self.pid = socket.gethostname(), os.getpid()
        self.id = f"{role}:{self.host}:{self.pid}:{uuid.uuid4().hex[:6]}"
        self.started = time.time()
        self._stop = threading.Event()
        self._thread = None

    def beat_once(self):
        """Write the heartbeat now."""
        conn = self.database.connect()
        try:
            runners_db.beat(conn, self.id, self.host, self.pid, self.started, role=self.role)
        finally:
            conn.close()

    def _loop(self):
        while not self._stop.is_set():
            try:
                self.beat_once()
            except Exception as exc:  # the database is down: say so, keep trying
                log.warning("%s heartbeat failed: %s", self.role, exc)
            self._stop.wait(self.every)

    def start(self):
        """Start beating (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name=f"{self.role}-heartbeat",
                                            daemon=True)
            self._thread.start()
        return self

    def stop(self):
        """Stop beating and remove the row (a clean stop is not a missing worker)."""
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            conn = self.database.connect()
            try:
                runners_db.forget(conn, self.id)
            finally:
                conn.close()
        except Exception:
            log.debug("could not remove the %s heartbeat", self.role, exc_info=True)


def connect_celery_heartbeats(app):
    """Start a worker's heartbeat when it is ready and beat's when it starts."""
    from celery import signals

    from phopy.data import get_database
    every = app.config.get("HEALTH_HEARTBEAT_SECONDS", 10)
    running = {}

    def start(role):
        if role not in running:
            running[role] = Heartbeat(get_database(app), role, every).start()
            atexit.register(running[role].stop)  # beat has no shutdown signal of its own
            log.info("%s heartbeat %s every %ss", role, running[role].id, every)

    def stop(**_):
        for heartbeat in list(running.values()):
            heartbeat.stop()
        running.clear()

    signals.worker_ready.connect(lambda **_: start("worker"), weak=False)
    signals.beat_init.connect(lambda **_: start("beat"), weak=False)
    signals.worker_shutdown.connect(stop, weak=False)
    return running
