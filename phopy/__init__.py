"""Phopy: event photos to the people in them.

``create_app`` builds the Flask app; importing this package connects to
nothing, loads no face model and imports no Flask, so the face engine's worker
processes (``phopy.faces``) start light.
"""

# The modules that declare the core jobs (``@job``), recovery hooks and schedule entries.
CORE_JOB_MODULES = ("phopy.services.indexing", "phopy.services.photos",
                    "phopy.services.maintenance", "phopy.services.retention",
                    "phopy.services.confirm")


def create_app(config=None):
    """Build the app: config, logging, database, i18n, jobs, features, pages, CLI.

    This is the one place that names Phopy's features: the core job modules,
    then each channel's ``init_app`` (LINE, Google, sales, bibs), then the job runner or
    Celery, once every job and schedule entry is declared.
    """
    from flask import Flask

    from phopy.config import REPO_ROOT, load_config

    app = Flask(__name__, instance_path=None,
                template_folder=str(REPO_ROOT / "templates"),
                static_folder=str(REPO_ROOT / "static"))
    load_config(app, config)
    register_extensions(app)
    register_features(app)
    register_web(app)
    register_jobs(app)
    return app


def register_extensions(app):
    """Logging, database, CSRF, translations and the CLI."""
    from phopy import cli, data
    from phopy.extensions import get_storage
    from phopy.logging_setup import init_logging
    from phopy.web import headers, i18n, security

    init_logging(app)
    get_storage(app)  # the data folder exists, private, from the start (on PostgreSQL too)
    data.init_app(app)
    security.init_app(app)
    headers.init_app(app)
    i18n.init_app(app)
    cli.init_app(app)


def register_features(app):
    """The core jobs, then each channel: its jobs, schedule entries and pages."""
    import importlib

    from phopy import bibs, google, line, sales

    for name in CORE_JOB_MODULES:
        importlib.import_module(name)
    line.init_app(app)
    google.init_app(app)
    sales.init_app(app)
    bibs.init_app(app)


def register_web(app):
    """Blueprints and error pages."""
    from phopy.web import register_blueprints
    from phopy.web.errors import register_error_handlers

    register_blueprints(app)
    register_error_handlers(app)


def register_jobs(app):
    """Check the declared jobs and schedule; the job commands; Celery when configured."""
    from phopy.jobs import setup
    setup.init_app(app)
