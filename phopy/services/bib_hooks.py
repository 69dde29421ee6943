"""Search by bib number for the channels, and "bibs were read" for them, without the
bib package and a channel importing each other.

``phopy.bibs`` provides the search (:func:`provide_bib_search`, from its
``init_app``); a channel (LINE) asks it through :func:`bib_of` and
:func:`find_by_bib`, and registers listeners with :func:`on_bibs_read` that the
``read_bibs`` job runs when it has read an event's photos (:func:`bibs_read`).
With no provider, nothing is a bib and nothing is found.
"""
import logging

log = logging.getLogger(__name__)

_PROVIDER = {}
BIBS_READ_HOOKS = []


def provide_bib_search(search_on, bib_of, find):
    """Register the search: ``search_on(conn, config, event_id)`` says whether the
    event is searchable by bib; ``bib_of(conn, config, event_id, text)`` gives the bib
    the text is for the event (None unless it is searchable and the text fits its bib
    pattern); ``find(conn, search, event, bib)`` gives ``[(photo_id, found_by)]``
    (``found_by``: face, bib or both; [] when the bib was never read)."""
    _PROVIDER.update(search_on=search_on, bib_of=bib_of, find=find)


def bib_search_on(conn, config, event_id):
    """Whether the event's attendees may search by bib number."""
    provider = _PROVIDER.get("search_on")
    return bool(provider and provider(conn, config, event_id))


def bib_of(conn, config, event_id, text):
    """The bib ``text`` is for the event, or None (see :func:`provide_bib_search`)."""
    provider = _PROVIDER.get("bib_of")
    return provider(conn, config, event_id, text) if provider else None


def find_by_bib(conn, search, event, bib):
    """``[(photo_id, found_by)]`` of the bib in the event, the web's search by bib;
    ``search`` is ``(search_cache, engine_settings)``."""
    provider = _PROVIDER.get("find")
    return provider(conn, search, event, bib) if provider else []


def on_bibs_read(func):
    """Decorator: ``func(conn, config, search, event_id)`` runs when the ``read_bibs``
    job has read the event's photos (new readings may find people)."""
    BIBS_READ_HOOKS.append(func)
    return func


def bibs_read(conn, config, search, event_id):
    """Run the listeners of an event whose photos were read."""
    for hook in BIBS_READ_HOOKS:
        hook(conn, config, search, event_id)
