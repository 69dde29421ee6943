"""Give already-indexed photos of an older Phopy database a checkpoint row.

Before per-photo checkpoints, an interrupted indexing run could not tell which
photos were done. This marks every photo that already has faces as indexed, so
resuming never encodes it twice. Safe to run again.

    .venv/bin/python migrate_checkpoints.py
"""
from phopy import create_app
from phopy.data import get_database
from phopy.data.migrate import backfill_checkpoints


def main():
    """Back-fill checkpoints in the configured database."""
    app = create_app()
    conn = get_database(app).connect()
    try:
        added = backfill_checkpoints(conn)
    finally:
        conn.close()
    print(f"checkpoints added: {added}")


if __name__ == "__main__":
    main()
