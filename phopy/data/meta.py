"""SQL for ``schema_meta``: a few named values about the database itself.

``schema_version`` (written by the schema files and by ``init-db``) and
``data_dir_id`` (the id of the data folder the file storage backend uses).
"""


def get(conn, name):
    """The stored value, or None (also when the table does not exist yet)."""
    if not _has_table(conn):
        return None
    return conn.scalar("SELECT value FROM schema_meta WHERE name = ?", (name,))


def put(conn, name, value):
    """Store ``value`` under ``name``, replacing what was there."""
    conn.execute("INSERT INTO schema_meta (name, value) VALUES (?, ?) "
                 "ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, str(value)))


def put_if_missing(conn, name, value):
    """Store ``value`` unless ``name`` already has one; return the value now stored."""
    conn.execute("INSERT INTO schema_meta (name, value) VALUES (?, ?) "
                 "ON CONFLICT (name) DO NOTHING", (name, str(value)))
    return conn.scalar("SELECT value FROM schema_meta WHERE name = ?", (name,))


def _has_table(conn):
    if conn.dialect == "sqlite":
        return conn.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                           "AND name = 'schema_meta'") > 0
    return conn.scalar("SELECT to_regclass('schema_meta') IS NOT NULL")
