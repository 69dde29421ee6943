"""A test job kind: fails with a transient error twice, then succeeds."""
from phopy.errors import TransientError


def flaky(ctx, label):
    """Fails on its first two attempts (the task row counts them), then succeeds."""
    if ctx.task["attempts"] < 3:
        raise TransientError(f"attempt {ctx.task['attempts']}: the outside API answered 503")
    return {"label": label, "attempts": ctx.task["attempts"]}
