"""The gateway's small domain exceptions: what went wrong, in words a page can show."""


class ClusterError(Exception):
    """Base of the gateway's domain exceptions."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        self.status = status


class NotFound(ClusterError):
    """The object (or its namespace) does not exist."""


class Forbidden(ClusterError):
    """The API server refused the identity the request was made as (401/403)."""


class Conflict(ClusterError):
    """The object already exists or changed underneath us (409)."""


class Gone(ClusterError):
    """A watch's resourceVersion is too old (410): list again."""


class Unavailable(ClusterError):
    """The API server cannot be reached or answered with an error; `since` is when that began."""

    def __init__(self, message, since=None, status=None):
        super().__init__(message, status)
        self.since = since


class InvalidName(NotFound):
    """A namespace or object name that may not become part of an API request (see paths).

    A NotFound: a name that cannot exist answers like an object that does not.
    """
