"""Several processes opening a brand-new SQLite database at once (gunicorn's
workers at first start) all get in: switching it to WAL waits its turn."""
import multiprocessing

from phopy.data.connection import Database


def _open_and_create(args):
    url, barrier = args
    barrier.wait()
    database = Database(url)
    database.init_schema()
    conn = database.connect()
    try:
        return conn.raw.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()


def test_workers_starting_together_on_a_new_database(tmp_path):
    context = multiprocessing.get_context("spawn")
    processes = 6
    for round_ in range(3):
        url = f"sqlite:///{tmp_path / f'new-{round_}.db'}"
        with context.Manager() as manager:
            barrier = manager.Barrier(processes)
            with context.Pool(processes) as pool:
                modes = pool.map(_open_and_create, [(url, barrier)] * processes)
        assert [m.lower() for m in modes] == ["wal"] * processes
