"""Running events: find photos by race bib number, bibs and faces helping each other.

Off unless the photographer marks an event "running event" (or ``BIB_SEARCH=1``
for every event); then nothing here runs and no OCR model is loaded.

- ``ocr``: the OCR client (RapidOCR on onnxruntime, models inside its wheel), lazy.
- ``settings``: is reading on for an event, its bib pattern, what a bib looks like.
- ``reading``: the ``read_bibs`` job (torso under each face + the whole photo),
  queued when a running event's indexing completes.
- ``checks``: the start list, confidence, fixes, one bib on two faces.
- ``start_list``: the CSV import.
- ``search``: search by bib, and selfie searches that gain the runner's bib photos.
- ``service``: settings, summary, review queue and fixes for the pages.
- ``views``: the event page's bib search, the dashboard card, the review queue, and
  the API's ``bib`` field (``phopy.web.results.register_event_search``).
- ``channels``: search by bib for the LINE bot (``phopy.services.bib_hooks``).

Templates are in ``templates/bibs/`` beside this file; SQL in ``phopy.data.bibs``.
"""


def init_app(app):
    """Declare the ``read_bibs`` job and its hook after indexing, register the pages,
    the API's bib search and the channels' (the factory calls this)."""
    from phopy.bibs import channels, reading, views  # noqa: F401  (reading declares the job)
    from phopy.web.results import register_event_search
    app.register_blueprint(views.bp)
    register_event_search(app, views.event_search)
    channels.init_app(app)
