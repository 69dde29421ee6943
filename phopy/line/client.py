"""The one adapter around line-bot-sdk v3's MessagingApi and MessagingApiBlob.

One ``Configuration(host=LINE_API_HOST)`` serves both APIs (unset: LINE's
servers). LINE's errors become Phopy's: 429/5xx and network trouble are
``TransientError`` (the job retries), a message content LINE no longer has is
``ContentGone``, a reply token that does not work is ``ReplyRefused``.
"""
import logging

from tenacity import (retry, retry_if_exception_type, stop_after_attempt,
                      wait_exponential)

from phopy.errors import PhopyError, TransientError

log = logging.getLogger(__name__)


class ContentGone(PhopyError):
    """LINE no longer has this message's content."""

    status_code = 404
    code = "line_content_gone"


class ReplyRefused(PhopyError):
    """LINE did not take the reply (token used or expired)."""


class AlreadyAccepted(PhopyError):
    """LINE already accepted a push with this retry key (409)."""


class LineApi:
    """Reply, push, profile, group summary, leave and message content."""

    def __init__(self, access_token, host=None, timeout=10):
        from linebot.v3.messaging import ApiClient, Configuration
        config = Configuration(access_token=access_token, host=(host or None) and
                               host.rstrip("/"))
        self.client = ApiClient(config)
        self.timeout = timeout

    @classmethod
    def from_config(cls, config):
        """The adapter for an app or job config."""
        return cls(config["LINE_CHANNEL_ACCESS_TOKEN"], config.get("LINE_API_HOST"))

    @property
    def messaging(self):
        from linebot.v3.messaging import MessagingApi
        return MessagingApi(self.client)

    @property
    def blob(self):
        from linebot.v3.messaging import MessagingApiBlob
        return MessagingApiBlob(self.client)

    def _call(self, what, func, *args, **kwargs):
        import urllib3
        from linebot.v3.messaging import ApiException
        try:
            return func(*args, _request_timeout=self.timeout, **kwargs)
        except ApiException as exc:
            status = exc.status or 0
            if status == 429 or status >= 500:
                retry_after = (exc.headers or {}).get("Retry-After")
                raise TransientError(f"LINE {what}: HTTP {status}",
                                     retry_after=float(retry_after) if retry_after else None)
            raise
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise TransientError(f"LINE {what}: {exc}") from exc

    def reply(self, reply_token, messages):
        """Reply with message dicts; ReplyRefused when LINE does not take the token."""
        from linebot.v3.messaging import ApiException, ReplyMessageRequest
        request = ReplyMessageRequest.from_dict({"replyToken": reply_token,
                                                 "messages": messages})
        try:
            self._call("reply", self.messaging.reply_message, request)
        except ApiException as exc:
            raise ReplyRefused(f"LINE reply: HTTP {exc.status}") from exc

    def push(self, to, messages, retry_key):
        """Push message dicts with LINE's retry key; AlreadyAccepted on 409."""
        from linebot.v3.messaging import ApiException, PushMessageRequest
        request = PushMessageRequest.from_dict({"to": to, "messages": messages})
        try:
            self._call("push", self.messaging.push_message, request,
                       x_line_retry_key=retry_key)
        except ApiException as exc:
            if exc.status == 409:
                raise AlreadyAccepted("LINE push: already accepted") from exc
            raise

    def profile(self, user_id):
        """The user's profile as a dict (displayName, language…), or None."""
        from linebot.v3.messaging import ApiException
        try:
            profile = self._call("profile", self.messaging.get_profile, user_id)
        except ApiException as exc:
            log.info("LINE profile of %s: HTTP %s", user_id, exc.status)
            return None
        return {"display_name": profile.display_name, "language": profile.language}

    def group_name(self, group_id):
        """The group's name, or None."""
        from linebot.v3.messaging import ApiException
        try:
            return self._call("group summary", self.messaging.get_group_summary,
                              group_id).group_name
        except ApiException:
            return None

    def leave_group(self, group_id):
        """Make the bot leave a group."""
        self._call("leave", self.messaging.leave_group, group_id)

    @retry(retry=retry_if_exception_type(TransientError), stop=stop_after_attempt(3),
           wait=wait_exponential(multiplier=0.2, max=2), reraise=True)
    def content(self, message_id):
        """A message's content bytes (a few quick retries; then the job retries)."""
        from linebot.v3.messaging import ApiException
        try:
            return self._call("content", self.blob.get_message_content, message_id)
        except ApiException as exc:
            if exc.status == 404:
                raise ContentGone(f"LINE content {message_id}: gone") from exc
            raise
