"""Database connections: SQLite now, PostgreSQL through the same small API.

Every SQL statement lives in ``phopy.data``; callers use :class:`Connection`
and never see the driver. Statements use ``?`` placeholders; the PostgreSQL
dialect rewrites them to ``%s``.
"""
import io
import logging
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)


# One advisory lock per PostgreSQL schema for init-db and upgrades (7410: Phopy's class).
SCHEMA_LOCK_SQL = "SELECT {}(7410, hashtext(current_schema()))"


class PoolTimeout(RuntimeError):
    """Every pooled connection stayed busy for ``timeout`` seconds."""


class _PgPool:
    """psycopg2's ThreadedConnectionPool, waiting (not failing) when all are in use.

    One pool per process: a forked child (a Celery or gunicorn worker) opens
    its own instead of sharing its parent's sockets.
    """

    def __init__(self, url, minconn, maxconn, timeout):
        import psycopg2.extras
        from psycopg2.pool import ThreadedConnectionPool
        self.pid = os.getpid()
        self.timeout = timeout
        self.pool = ThreadedConnectionPool(minconn, maxconn, url,
                                           cursor_factory=psycopg2.extras.RealDictCursor)
        self.slots = threading.BoundedSemaphore(maxconn)

    def get(self, wait=True):
        """A connection; with ``wait=False`` None at once when every one is in use."""
        if not self.slots.acquire(timeout=self.timeout if wait else 0):
            if not wait:
                return None
            raise PoolTimeout(f"no free database connection after {self.timeout:.0f}s "
                              "(raise DB_POOL_MAX?)")
        try:
            raw = self.pool.getconn()
            if raw.closed:
                self.pool.putconn(raw, close=True)
                raw = self.pool.getconn()
            raw.autocommit = True
            return raw
        except BaseException:
            self.slots.release()
            raise

    def put(self, raw):
        import psycopg2.extensions
        close = bool(raw.closed)
        if not close and raw.get_transaction_status() != \
                psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            try:  # autocommit: psycopg2's rollback() would not end a BEGIN we sent
                raw.cursor().execute("ROLLBACK")
            except Exception:
                close = True
        try:
            self.pool.putconn(raw, close=close)
        except Exception:  # pragma: no cover - the pool was closed meanwhile
            log.debug("returning a connection failed", exc_info=True)
        finally:
            self.slots.release()

    def close(self):
        self.pool.closeall()


class Database:
    """Opens connections to the database named by a URL (PostgreSQL: from a pool)."""

    def __init__(self, url, *, pool_min=1, pool_max=20, pool_timeout=30.0):
        self.url = url
        self.pool_min, self.pool_max, self.pool_timeout = pool_min, pool_max, pool_timeout
        self._pool = None
        self._pool_lock = threading.Lock()
        parsed = urlparse(url)
        self.dialect = "postgresql" if parsed.scheme.startswith("postgres") else "sqlite"
        self.sqlite_path = None
        if self.dialect == "sqlite":
            self.sqlite_path = url.split("sqlite:///", 1)[1]
            Path(self.sqlite_path).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._wal_once = threading.Lock()

    def connect(self):
        """Open a new :class:`Connection` (one per request, thread or process)."""
        if self.dialect == "sqlite":
            raw = sqlite3.connect(self.sqlite_path, timeout=30, isolation_level=None,
                                  check_same_thread=False)
            raw.row_factory = sqlite3.Row
            raw.execute("PRAGMA foreign_keys = ON")
            raw.execute("PRAGMA busy_timeout = 30000")
            with self._wal_once:
                _ensure_wal(raw)
            raw.execute("PRAGMA synchronous = NORMAL")
            return Connection(raw, "sqlite")
        pool = self._get_pool()
        return Connection(pool.get(), "postgresql", release=pool.put, spare=self._spare)

    def _spare(self):
        """A second pooled connection if one is free now, else None (never waits)."""
        pool = self._get_pool()
        raw = pool.get(wait=False)
        return Connection(raw, "postgresql", release=pool.put) if raw is not None else None

    def _get_pool(self):
        pool = self._pool
        if pool is None or pool.pid != os.getpid():
            with self._pool_lock:
                if self._pool is None or self._pool.pid != os.getpid():
                    self._pool = _PgPool(self.url, self.pool_min, self.pool_max,
                                         self.pool_timeout)
                pool = self._pool
        return pool

    def close(self):
        """Close every pooled connection of this process."""
        with self._pool_lock:
            if self._pool is not None and self._pool.pid == os.getpid():
                self._pool.close()
            self._pool = None

    def schema_path(self):
        """The schema file for this dialect."""
        root = Path(__file__).resolve().parent.parent.parent
        return root / ("schema.sql" if self.dialect == "sqlite" else "schema_postgresql.sql")

    def init_schema(self):
        """Create every table that is missing and upgrade older ones (idempotent).

        On PostgreSQL one session-level advisory lock per schema serialises
        every ``init-db`` and start-up upgrade, so several machines starting at
        once take turns instead of failing on each other's CREATE or ALTER.
        A database newer than this code is refused before anything changes.
        """
        from phopy.data import upgrade
        conn = self.connect()
        locked = False
        try:
            if self.dialect == "postgresql":
                conn.execute(SCHEMA_LOCK_SQL.format("pg_advisory_lock"))
                locked = True
            found = upgrade.stored_version(conn)
            if found is not None and found > upgrade.SCHEMA_VERSION:
                upgrade.check_schema(conn)  # raises: newer than this code
            with conn.transaction():
                rebuild = upgrade.upgrade_before_schema(conn)
            conn.executescript(self.schema_path().read_text())
            with conn.transaction():
                upgrade.upgrade_after_schema(conn, rebuild)
                upgrade.record_version(conn)
        finally:
            if locked and conn.raw is not None and not conn.raw.closed:
                try:
                    conn.execute(SCHEMA_LOCK_SQL.format("pg_advisory_unlock"))
                except Exception:  # the session ends with the connection anyway
                    log.debug("releasing the schema lock failed", exc_info=True)
            conn.close()
        if self.sqlite_path:
            make_private(self.sqlite_path)


def make_private(path):
    """Let only this user read a file (SQLite gives its -wal/-shm files the same mode)."""
    try:
        path = Path(path)
        if path.exists() and path.stat().st_mode & 0o077:
            path.chmod(0o600)
    except OSError as exc:  # not ours to change: say so, keep serving
        log.warning("could not make %s private: %s", path, exc)


class Connection:
    """A thin wrapper: execute, fetch rows as dicts, and explicit transactions."""

    def __init__(self, raw, dialect, release=None, spare=None):
        self.raw = raw
        self.dialect = dialect
        self._release = release
        self._spare = spare
        self._depth = 0
        self._after_commit = []
        self.integrity_errors = (sqlite3.IntegrityError,)
        if dialect == "postgresql":
            import psycopg2
            self.integrity_errors = (psycopg2.IntegrityError,)

    def _sql(self, sql):
        if self.dialect != "postgresql":
            return sql
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql, params=()):
        """Run one statement and return the cursor."""
        cur = self.raw.cursor()
        cur.execute(self._sql(sql), tuple(params))
        return cur

    def executemany(self, sql, rows):
        """Run one statement for each parameter tuple."""
        cur = self.raw.cursor()
        cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        return cur

    def executescript(self, script):
        """Run a schema script."""
        if self.dialect == "sqlite":
            self.raw.executescript(script)
        else:
            self.raw.cursor().execute(script)

    def all(self, sql, params=()):
        """All rows as dicts."""
        return [dict(r) for r in self.execute(sql, params).fetchall()]

    def tuples(self, sql, params=()):
        """All rows as plain tuples (no dict per row: for large reads)."""
        if self.dialect == "sqlite":
            cur = self.raw.cursor()
            cur.row_factory = None
        else:
            import psycopg2.extensions
            cur = self.raw.cursor(cursor_factory=psycopg2.extensions.cursor)
        cur.execute(self._sql(sql), tuple(params))
        return cur.fetchall()

    def copy_binary(self, sql, params=()):
        """PostgreSQL: a query's rows in COPY's binary format (a memoryview), read in one
        stream with no Python object per row (the search cache's loader parses it)."""
        if self.dialect != "postgresql":
            raise NotImplementedError("COPY is PostgreSQL's")
        cur = self.raw.cursor()
        query = cur.mogrify(self._sql(sql), tuple(params)).decode()
        out = io.BytesIO()
        cur.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT binary)", out)
        return out.getbuffer()

    @contextmanager
    def split_read(self):
        """PostgreSQL, outside a transaction: a second pooled connection reading the same
        snapshot as this one (REPEATABLE READ, ``pg_export_snapshot``, as ``pg_dump
        --jobs`` does), so one big read may be split across two server processes; None
        when no connection is free now, inside a transaction, or on SQLite."""
        if self.dialect != "postgresql" or self._depth or self._spare is None:
            yield None
            return
        other = self._spare()
        if other is None:
            yield None
            return
        mine = self.raw.cursor()
        try:
            mine.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            mine.execute("SELECT pg_export_snapshot() AS snapshot")
            snapshot = mine.fetchone()["snapshot"]
            theirs = other.raw.cursor()
            theirs.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            theirs.execute("SET TRANSACTION SNAPSHOT %s", (snapshot,))
            self._depth = other._depth = 1  # a transaction is open on both
            yield other
        finally:
            self._depth = other._depth = 0
            try:
                if not self.raw.closed:
                    self.raw.cursor().execute("ROLLBACK")
            finally:
                other.close()  # the pool ends its transaction

    def one(self, sql, params=()):
        """The first row as a dict, or None."""
        row = self.execute(sql, params).fetchone()
        return dict(row) if row is not None else None

    def scalar(self, sql, params=()):
        """The first column of the first row, or None."""
        row = self.execute(sql, params).fetchone()
        if row is None:
            return None
        return list(dict(row).values())[0]

    def blob(self, data):
        """Wrap bytes for the driver."""
        if self.dialect == "postgresql":
            import psycopg2
            return psycopg2.Binary(data)
        return data

    def after_commit(self, callback):
        """Call ``callback()`` once the current transaction commits (now, outside one).

        Used to hand a queued task to a worker only when its row is visible.
        """
        if self._depth:
            self._after_commit.append(callback)
        else:
            callback()

    @contextmanager
    def transaction(self):
        """A write transaction; nested uses join the outer one.

        SQLite takes the write lock at BEGIN (IMMEDIATE), so a read-then-write
        inside is atomic across processes — that is how tasks are claimed.
        """
        if self._depth:
            self._depth += 1
            try:
                yield self
            finally:
                self._depth -= 1
            return
        begin = "BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN"
        self.raw.cursor().execute(begin)
        self._depth = 1
        try:
            yield self
        except BaseException:
            self._depth = 0
            self._after_commit.clear()
            self.raw.cursor().execute("ROLLBACK")
            raise
        self._depth = 0
        self.raw.cursor().execute("COMMIT")
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")

    def close(self):
        """Close the connection (PostgreSQL: hand it back to the pool); safe twice."""
        raw, self.raw = self.raw, None
        if raw is None:
            return
        if self._release is not None:
            self._release(raw)
            return
        try:
            raw.close()
        except Exception:  # pragma: no cover - closing twice is harmless
            log.debug("closing connection failed", exc_info=True)


def _is_locked(exc):
    return isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)


def _ensure_wal(raw):
    """Put the database in WAL mode (kept in the file, so once is enough).

    Switching needs the database to itself, and SQLite answers "database is
    locked" at once, without waiting out busy_timeout, while another process
    holds it: two gunicorn workers creating a new database at the same moment
    did. Read the mode first, and retry the switch with backoff (tenacity).
    """
    from tenacity import (Retrying, retry_if_exception, stop_after_delay,
                          wait_exponential_jitter)

    for attempt in Retrying(retry=retry_if_exception(_is_locked), reraise=True,
                            wait=wait_exponential_jitter(multiplier=0.05, max=1),
                            stop=stop_after_delay(30)):
        with attempt:
            if raw.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                raw.execute("PRAGMA journal_mode = WAL")
