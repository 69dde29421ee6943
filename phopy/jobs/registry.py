"""The job kinds: one name each, mapped to a plain service function.

A job function is called as ``func(ctx, **args)`` with a
:class:`phopy.jobs.context.JobContext`; it returns a small JSON-ready result (or
None). It raises :class:`phopy.errors.TransientError` for a failure worth
retrying (network, a locked database, a 429/5xx from an outside API): the task
goes back to the queue with exponential backoff until ``max_attempts``. Any
other exception fails the task with its message.

Both runners (the in-process one and Celery) dispatch through this registry.
Kinds are registered in ``phopy.jobs.kinds``.
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


def register(name, func, *, max_attempts=5, needs_pool=False):
    """Register ``func`` as the job ``name``; return it unchanged."""
    JOBS[name] = JobKind(name, func, max_attempts, needs_pool)
    return func


def get_kind(name):
    """The JobKind called ``name`` (every built-in kind is loaded first)."""
    load_kinds()
    try:
        return JOBS[name]
    except KeyError:
        raise UnknownJob(f"unknown job kind {name!r}") from None


def kinds(needs_pool=None):
    """Names of the registered kinds, optionally only heavy or only light ones."""
    load_kinds()
    return sorted(k.name for k in JOBS.values()
                  if needs_pool is None or k.needs_pool == needs_pool)


def load_kinds():
    """Import the module that registers every built-in kind (idempotent)."""
    import phopy.jobs.kinds  # noqa: F401


class UnknownJob(PhopyError):
    """A task names a job kind this version of Phopy does not know."""
