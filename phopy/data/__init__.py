"""The data-access layer: every SQL statement Phopy runs lives in this package.

``init_app`` gives each request one connection (``get_db``), closed at
teardown, and registers the ``init-db`` command. Flask is imported only by
those functions, so a job or script that only opens a ``Database`` (the task
queue, the face workers) pulls in no Flask.
"""
from phopy.data.connection import Connection, Database


def get_database(app=None):
    """The app's :class:`Database` (connection factory)."""
    if app is None:
        from flask import current_app
        app = current_app
    return app.extensions["phopy_db"]


def get_db():
    """This request's connection, opened on first use."""
    from flask import g
    if "db" not in g:
        g.db = get_database().connect()
    return g.db


def close_db(_exc=None):
    """Close this request's connection, if one was opened."""
    from flask import g
    db = g.pop("db", None)
    if db is not None:
        db.close()


def _init_db_command():
    import click
    from flask.cli import with_appcontext

    @click.command("init-db")
    @with_appcontext
    def init_db_command():
        """Create the database tables (safe to run again)."""
        from phopy.data.upgrade import SchemaMismatch
        database = get_database()
        try:
            database.init_schema()
        except SchemaMismatch as exc:
            raise click.ClickException(str(exc)) from None
        click.echo(f"Database ready: {database.url}")
    return init_db_command


def init_app(app):
    """Attach the database to the app and register its CLI command."""
    database = Database(app.config["DATABASE_URL"], pool_min=app.config["DB_POOL_MIN"],
                        pool_max=app.config["DB_POOL_MAX"],
                        pool_timeout=app.config["DB_POOL_TIMEOUT"])
    app.extensions["phopy_db"] = database
    app.teardown_appcontext(close_db)
    app.cli.add_command(_init_db_command())
    if database.dialect == "sqlite" and app.config.get("AUTO_INIT_DB", True):
        database.init_schema()


__all__ = ["Connection", "Database", "get_db", "get_database", "init_app"]
