"""The small interface every photo source implements."""


class PhotoSource:
    """A place photos come from: list items, fetch their bytes."""

    name = "source"

    def items(self):
        """Yield ``(filename, fetch, ref)`` for each photo, ``fetch()`` giving bytes."""
        raise NotImplementedError
