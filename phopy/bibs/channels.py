"""Search by bib number for the channels (the LINE bot), through
``phopy.services.bib_hooks``: the same results as the web's search by bib."""
from phopy.bibs.search import NoRunner, find_by_bib
from phopy.bibs.settings import event_settings, match_bib
from phopy.services import bib_hooks


def search_on(conn, config, event_id):
    """Whether the event's attendees may search by bib number."""
    return event_settings(conn, config, event_id)["search"]


def bib_of(conn, config, event_id, text):
    """The bib ``text`` is when the event is searchable by bib and the text, holding a
    digit, fits the event's bib pattern; else None."""
    settings = event_settings(conn, config, event_id)
    if not settings["search"]:
        return None
    bib = match_bib(settings["pattern"], text)
    return bib if bib and any(c.isdigit() for c in bib) else None


def find(conn, search, event, bib):
    """``[(photo_id, found_by)]`` of the bib (the web's order); [] when never read."""
    cache, engine_settings = search
    try:
        found = find_by_bib(conn, cache, engine_settings, event, bib)
    except NoRunner:
        return []
    return [(f.photo_id, f.found_by) for f in found]


def init_app(app):
    """Offer the search to the channels (``phopy.bibs.init_app`` calls this)."""
    bib_hooks.provide_bib_search(search_on, bib_of, find)
