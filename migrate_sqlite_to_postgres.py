"""Copy a Phopy SQLite database into an empty PostgreSQL database.

    .venv/bin/pip install -r requirements-postgresql.txt
    .venv/bin/python migrate_sqlite_to_postgres.py instance/phopy.db postgresql://user:pw@host/phopy

Creates the PostgreSQL tables (schema_postgresql.sql) if missing, refuses to
write into tables that already hold rows, and copies everything in one
transaction. Photos and thumbnails stay where they are (PHOPY_DATA_DIR).
"""
import argparse
import json

from phopy.data import Database
from phopy.data.migrate import copy_database


def main(argv=None):
    """Parse the arguments and copy the data."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sqlite_path", help="path of the SQLite file (e.g. instance/phopy.db)")
    parser.add_argument("target_url", help="postgresql://… URL of the target database")
    args = parser.parse_args(argv)
    source_db = Database(f"sqlite:///{args.sqlite_path}")
    target_db = Database(args.target_url)
    target_db.init_schema()
    source, target = source_db.connect(), target_db.connect()
    try:
        print(json.dumps(copy_database(source, target), indent=2))
    finally:
        source.close()
        target.close()


if __name__ == "__main__":
    main()
