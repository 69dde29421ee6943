"""Phopy's entry point for the ``flask`` command: ``flask --app app init-db``.

Served by ``gunicorn phopy.wsgi:app`` (see start.sh), which also starts the
background job runner.
"""
from phopy import create_app

app = create_app()
