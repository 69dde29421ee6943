"""The LINE Official Account: webhook, commands, handlers, messages, API adapter.

Off unless ``LINE_CHANNEL_SECRET`` and ``LINE_CHANNEL_ACCESS_TOKEN`` are set.
The webhook view only verifies and records events; every event is handled in
a job (``line_event``), and every message goes out through the outbox job
(``line_send``) with its own retry key.
"""


def is_enabled(config):
    """Whether the LINE settings are there."""
    return bool(config.get("LINE_CHANNEL_SECRET") and config.get("LINE_CHANNEL_ACCESS_TOKEN"))


def init_app(app):
    """Register the LINE blueprints when LINE is configured."""
    from phopy.line import dashboard, gallery, webhook
    app.register_blueprint(gallery.bp)
    app.register_blueprint(dashboard.bp)
    if is_enabled(app.config):
        app.register_blueprint(webhook.bp)
