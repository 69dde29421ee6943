"""Copy a Phopy SQLite database into a PostgreSQL database.

    .venv/bin/python migrate_sqlite_to_postgres.py instance/phopy.db postgresql://user:pw@host/phopy

Stop Phopy first. Creates the PostgreSQL tables (schema_postgresql.sql) when
missing, copies every table in one transaction, checks each table's row count
and content checksum on both sides before committing, and moves the id
sequences past the copied rows. Run again, it reports "already copied" and
changes nothing; into a database holding other data it refuses (exit 2).
Photos and thumbnails stay where they are (PHOPY_DATA_DIR).
"""
import argparse
import json
import sys
from pathlib import Path

from phopy.data import Database
from phopy.data.migrate import MigrationRefused, copy_database


def main(argv=None):
    """Parse the arguments and copy the data; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sqlite_path", help="path of the SQLite file (e.g. instance/phopy.db)")
    parser.add_argument("target_url", help="postgresql://… URL of the target database")
    args = parser.parse_args(argv)
    if not Path(args.sqlite_path).is_file():
        print(f"error: {args.sqlite_path} is not a file", file=sys.stderr)
        return 2
    if not args.target_url.startswith(("postgresql://", "postgres://")):
        print("error: the target must be a postgresql:// URL", file=sys.stderr)
        return 2
    source_db = Database(f"sqlite:///{args.sqlite_path}")
    source_db.init_schema()  # an older Phopy database is upgraded as the app would
    target_db = Database(args.target_url)
    target_db.init_schema()
    source, target = source_db.connect(), target_db.connect()
    try:
        report = copy_database(source, target)
    except MigrationRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 2
    finally:
        source.close()
        target.close()
        target_db.close()
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
