"""Phopy's benchmark: indexing speed, search latency and match quality.

Run it with ``python -m bench`` (see ``bench/README`` section in the project
README); it writes ``bench/RESULTS.md`` and ``bench/results.json``. Everything
compared is measured in the same run on the same generated photos.
"""
