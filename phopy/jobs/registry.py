"""The job kinds: one name each, declared next to its function with :func:`job`.

A job function is called as ``func(ctx, **args)`` with a
:class:`phopy.jobs.context.JobContext`; it returns a small JSON-ready result (or
None). It raises :class:`phopy.errors.TransientError` for a failure worth
retrying (network, a locked database, a 429/5xx from an outside API): the task
goes back to the queue with exponential backoff until ``max_attempts``. Any
other exception fails the task with its message.

This module imports none of the modules that declare jobs (Celery's
``@shared_task``, Immich's ``@OnJob``): the factory imports them
(``phopy.create_app``), so by the time a runner or Celery starts every kind is
known. Both runners dispatch through this registry. Job names are stored in
task rows: a name, once shipped, never changes.

:func:`on_recover` declares what a runner does at start after a crash
(``TaskRunner.recover``), so the runner needs no service of its own.
"""
from dataclasses import dataclass
from typing import Callable

from phopy.errors import PhopyError


@dataclass(frozen=True)
class JobKind:
    """A registered job kind."""

    name: str
    func: Callable
    max_attempts: int = 5
    needs_pool: bool = False  # uses the face-engine process pool (heavy lane)


JOBS = {}
RECOVERY_HOOKS = {}


class UnknownJob(PhopyError):
    """A task names a job kind this version of Phopy does not know."""


class DuplicateJob(RuntimeError):
    """Two functions declared the same job name (a programming error, found at import)."""


def _origin(func):
    return f"{getattr(func, '__module__', '?')}.{getattr(func, '__qualname__', func)}"


def job(name, *, max_attempts=5, needs_pool=False):
    """Decorator: declare ``func`` as the job ``name``; return it unchanged.

    Declaring a name that another function already holds raises DuplicateJob
    (the same function declared again, as when its module is reloaded, is fine).
    """
    def declare(func):
        existing = JOBS.get(name)
        if existing is not None and _origin(existing.func) != _origin(func):
            raise DuplicateJob(f"job {name!r} is declared twice: by {_origin(existing.func)} "
                               f"and by {_origin(func)}")
        JOBS[name] = JobKind(name, func, max_attempts, needs_pool)
        return func
    return declare


def get_kind(name):
    """The JobKind called ``name``, or UnknownJob."""
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJob(f"unknown job kind {name!r}") from None


def kinds(needs_pool=None):
    """Names of the registered kinds, optionally only heavy or only light ones."""
    return sorted(k.name for k in JOBS.values()
                  if needs_pool is None or k.needs_pool == needs_pool)


def on_recover(func):
    """Decorator: ``func(conn, storage, config)`` runs when a runner starts (crash
    recovery); it returns how many things it put right."""
    RECOVERY_HOOKS[_origin(func)] = func
    return func


def recovery_hooks():
    """The declared recovery hooks, in declaration order."""
    return list(RECOVERY_HOOKS.values())
