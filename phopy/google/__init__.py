"""Google: sign-in with Google and photos from Google Drive folders, in one package.

- ``settings``: is Google on, client credentials, scopes.
- ``oauth``, ``tokens``: the OAuth flow and encrypted refresh tokens.
- ``drive``: the Drive v3 client (Google's errors become Phopy's).
- ``accounts``: Google identities and Drive grants of photographers.
- ``sync``: linking an event to a folder and the ``drive_sync`` jobs and schedule.
- ``source``: a Drive folder as a photo source.
- ``views``: the sign-in and Drive pages (``templates/google/`` beside this file).

SQL stays in ``phopy.data.google``.
"""


def init_app(app):
    """Declare Google's jobs and schedule and register its pages (the factory calls this)."""
    from phopy.google import sync, views  # noqa: F401  (sync declares the jobs)
    app.register_blueprint(views.bp)
