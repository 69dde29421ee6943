"""Database connections: SQLite now, PostgreSQL through the same small API.

Every SQL statement lives in ``phopy.data``; callers use :class:`Connection`
and never see the driver. Statements use ``?`` placeholders; the PostgreSQL
dialect rewrites them to ``%s``.
"""
import logging
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

log = logging.getLogger(__name__)


class Database:
    """Opens connections to the database named by a URL."""

    def __init__(self, url):
        self.url = url
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
                raw.execute("PRAGMA journal_mode = WAL")
            raw.execute("PRAGMA synchronous = NORMAL")
            return Connection(raw, "sqlite")
        import psycopg2
        import psycopg2.extras
        raw = psycopg2.connect(self.url, cursor_factory=psycopg2.extras.RealDictCursor)
        raw.autocommit = True
        return Connection(raw, "postgresql")

    def schema_path(self):
        """The schema file for this dialect."""
        root = Path(__file__).resolve().parent.parent.parent
        return root / ("schema.sql" if self.dialect == "sqlite" else "schema_postgresql.sql")

    def init_schema(self):
        """Create every table that is missing (idempotent)."""
        conn = self.connect()
        try:
            conn.executescript(self.schema_path().read_text())
        finally:
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

    def __init__(self, raw, dialect):
        self.raw = raw
        self.dialect = dialect
        self._depth = 0
        self.integrity_errors = (sqlite3.IntegrityError,)
        if dialect == "postgresql":
            import psycopg2
            self.integrity_errors = (psycopg2.IntegrityError,)

    def _sql(self, sql):
        return sql.replace("?", "%s") if self.dialect == "postgresql" else sql

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
            self.raw.cursor().execute("ROLLBACK")
            raise
        self._depth = 0
        self.raw.cursor().execute("COMMIT")

    def close(self):
        """Close the underlying connection."""
        try:
            self.raw.close()
        except Exception:  # pragma: no cover - closing twice is harmless
            log.debug("closing connection failed", exc_info=True)
