"""The LINE Official Account, in one package.

Off unless ``LINE_CHANNEL_SECRET`` and ``LINE_CHANNEL_ACCESS_TOKEN`` are set
(``settings.is_enabled``). The webhook view only verifies and records events;
every event is handled in a job (``line_event``), and every message goes out
through the outbox job (``line_send``) with its own retry key.

- ``webhook``: the signed webhook (records each event once, queues ``line_event``).
- ``commands``: text -> a command value (Thai and English aliases in one table).
- ``handlers``: one handler per event type; they call the services below.
- ``messages``: replies and Flex messages from templates, in the user's language.
- ``client``: the LINE Messaging API client (LINE's errors become Phopy's).
- ``outbox``: messages sent exactly once (job ``line_send``).
- ``intake``: photos sent into a group, matching, auto close (jobs ``line_intake``,
  ``line_auto_close`` and its schedule entry).
- ``attendees``, ``operators``: selfies and events of attendees; operators, groups.
- ``gallery``, ``gallery_links``: the participant's gallery page and its signed links.
- ``connect``: the dashboard's "Connect LINE" page (codes, linked operators).
- ``housekeeping``: outbox, webhook records and tokens deleted by date (``line_prune``).
- ``source``: LINE image messages as a photo source.

Templates are in ``templates/line/`` beside this file; SQL in ``phopy.data.line``.
"""


def init_app(app):
    """Declare LINE's jobs and schedule and register its pages (the factory calls this).

    The jobs are declared even while LINE is off, so tasks queued while it was on
    still run (or fail with a clear message) after it is turned off."""
    from phopy.line import connect, gallery, handlers, housekeeping, intake, outbox, sales_push  # noqa: F401,E501
    from phopy.line.settings import is_enabled
    app.register_blueprint(gallery.bp)
    app.register_blueprint(connect.bp)
    if is_enabled(app.config):
        from phopy.line import webhook
        app.register_blueprint(webhook.bp)
