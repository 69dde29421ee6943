"""The hook a photo-selling feature plugs into the public photo links.

The public pages (results, lightbox, the LINE gallery, the search APIs) hand out
the same signed photo links whatever the event. When a feature installs a
paywall (``phopy.sales`` does, from the factory), those links ask it first: a
locked event's thumbnails and full views become its watermarked previews, and
its downloads and ZIPs are refused (403). No paywall, or an event it does not
lock: everything is served exactly as before.
"""
from flask import current_app

KEY = "phopy_paywall"


class Paywall:
    """What the public pages ask a paywall."""

    def locked(self, conn, event):
        """Whether the event's photos are sold (previews only, no downloads)."""
        raise NotImplementedError

    def preview_key(self, conn, storage, config, event, photo):
        """The storage key of the photo's preview (made now if needed)."""
        raise NotImplementedError


def install(app, paywall):
    """Make ``paywall`` the app's paywall (one per app)."""
    app.extensions[KEY] = paywall


def is_locked(conn, event):
    """Whether the installed paywall locks this event (False without one)."""
    wall = current_app.extensions.get(KEY)
    return bool(wall is not None and event is not None and wall.locked(conn, event))


def preview_key(conn, storage, event, photo):
    """The installed paywall's preview of a photo of a locked event."""
    return current_app.extensions[KEY].preview_key(conn, storage, current_app.config, event,
                                                   photo)
