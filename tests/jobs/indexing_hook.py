"""A test follow-up of indexing for worker subprocesses: each call appends
``<event id> <pid>`` to the file PHOPY_TEST_HOOK_LOG names (when set)."""
import os

from phopy.services.indexing import after_indexing


@after_indexing
def note_indexed(conn, config, event_id):
    path = os.environ.get("PHOPY_TEST_HOOK_LOG")
    if path:
        with open(path, "a") as out:
            out.write(f"{event_id} {os.getpid()}\n")
