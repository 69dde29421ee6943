"""Domain exceptions, shared by the face engine, services, web views and CLI.

Plain Python: nothing here imports Flask. ``phopy.web.errors`` turns these into
JSON for the API and into ``templates/errors/<code>.html`` for pages.

Messages are English. ``N_`` marks a literal for translation (pybabel extracts
it; it returns the string unchanged) and ``Message`` is an English string that
remembers its template and values, so the web layer can show it in Thai.
"""


def N_(text):
    """Mark ``text`` for translation without translating it (no Flask needed)."""
    return text


class Message(str):
    """``template % params`` as a plain string that keeps ``template`` and ``params``."""

    def __new__(cls, template, **params):
        message = super().__new__(cls, template % params if params else template)
        message.template = template
        message.params = params
        return message


class PhopyError(Exception):
    """Base class: a problem we can explain to the user."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message=None, **details):
        super().__init__(message or self.__doc__)
        self.message = message or (self.__doc__ or "").strip()
        self.details = details

    def __reduce__(self):
        # Rebuilt whole (message, details, retry_after) when it crosses a process
        # boundary: a face worker's error reaches the job runner as it was raised.
        return (self.__class__, (self.message,), self.__dict__)


class NotFound(PhopyError):
    """The thing you asked for does not exist."""

    status_code = 404
    code = "not_found"


class Forbidden(PhopyError):
    """You are not allowed to do that."""

    status_code = 403
    code = "forbidden"


class ValidationError(PhopyError):
    """The input is not valid."""

    status_code = 400
    code = "invalid_input"


class FileTooLarge(PhopyError):
    """The file is too large."""

    status_code = 413
    code = "file_too_large"


class UnsupportedFile(PhopyError):
    """This file type is not supported."""

    status_code = 415
    code = "unsupported_file"


class ImageDecodeError(PhopyError):
    """The file could not be read as an image."""

    status_code = 422
    code = "unreadable_image"


class NoFaceFound(PhopyError):
    """No face was found in the photo."""

    status_code = 422
    code = "no_face"


class Conflict(PhopyError):
    """That conflicts with what is already stored."""

    status_code = 409
    code = "conflict"


class NeedsReindex(PhopyError):
    """The event was indexed with another face engine and must be re-indexed first."""

    status_code = 409
    code = "needs_reindex"


class TransientError(PhopyError):
    """A temporary failure; the job will be tried again."""

    status_code = 503
    code = "temporarily_unavailable"

    def __init__(self, message=None, retry_after=None, **details):
        super().__init__(message, **details)
        self.retry_after = retry_after  # seconds an outside service asked us to wait


class StorageMissing(NotFound):
    """The stored file is missing."""

    code = "file_missing"


class StorageUnavailable(TransientError):
    """The photo storage cannot be reached right now."""

    code = "storage_unavailable"


class EngineUnavailable(PhopyError):
    """The face engine cannot run on this machine (its model files are missing)."""

    status_code = 503
    code = "engine_unavailable"


class ServerBusy(PhopyError):
    """Many people are searching right now. Please try again in a few seconds."""

    status_code = 503
    code = "busy"


# The default messages above (the classes' docstrings), marked for pybabel.
DEFAULT_MESSAGES = (
    N_("Base class: a problem we can explain to the user."),
    N_("The thing you asked for does not exist."),
    N_("You are not allowed to do that."),
    N_("The input is not valid."),
    N_("The file is too large."),
    N_("This file type is not supported."),
    N_("The file could not be read as an image."),
    N_("No face was found in the photo."),
    N_("That conflicts with what is already stored."),
    N_("A temporary failure; the job will be tried again."),
    N_("The stored file is missing."),
    N_("The photo storage cannot be reached right now."),
    N_("The face engine cannot run on this machine (its model files are missing)."),
    N_("Many people are searching right now. Please try again in a few seconds."),
)
