"""Phopy: event photos to the people in them.

``create_app`` builds the Flask app; importing this package connects to
nothing, loads no face model and imports no Flask, so the face engine's worker
processes (``phopy.faces``) start light.
"""


def create_app(config=None):
    """Build the app: config, logging, database, i18n, blueprints, errors, CLI."""
    from flask import Flask

    from phopy.config import REPO_ROOT, load_config

    app = Flask(__name__, instance_path=None,
                template_folder=str(REPO_ROOT / "templates"),
                static_folder=str(REPO_ROOT / "static"))
    load_config(app, config)
    register_extensions(app)
    register_web(app)
    return app


def register_extensions(app):
    """Logging, database, CSRF, translations and job commands."""
    from phopy import cli, data, jobs
    from phopy.logging_setup import init_logging
    from phopy.web import headers, i18n, security

    init_logging(app)
    from phopy.extensions import get_storage
    get_storage(app)  # the data folder exists, private, from the start (on PostgreSQL too)
    data.init_app(app)
    security.init_app(app)
    headers.init_app(app)
    i18n.init_app(app)
    jobs.init_app(app)
    cli.init_app(app)


def register_web(app):
    """Blueprints and error pages."""
    from phopy.web import register_blueprints
    from phopy.web.errors import register_error_handlers

    from phopy import line

    register_blueprints(app)
    line.init_app(app)
    register_error_handlers(app)
