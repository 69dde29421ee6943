"""Images sent in a LINE group: fetched through MessagingApiBlob by message id."""
from phopy.sources.base import PhotoSource


class LineMessageSource(PhotoSource):
    """LINE image messages; ``api`` is a :class:`phopy.line.client.LineApi`."""

    name = "line"

    def __init__(self, api, message_ids):
        self.api = api
        self.message_ids = list(message_ids)

    def items(self):
        """Yield one item per message; fetching downloads the content (with retries)."""
        for message_id in self.message_ids:
            yield f"line-{message_id}.jpg", (lambda m=message_id: bytes(self.api.content(m))), \
                message_id
