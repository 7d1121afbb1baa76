"""Domain errors. The edges map them: the API to 4xx, commands to one line and exit 1."""


class TisketError(Exception):
    """Base of every error a user can cause and be told about."""

    status_code = 400


class NotAllowedError(TisketError):
    """The actor's role does not allow this action."""

    status_code = 403


class ConflictError(TisketError):
    """The action contradicts the current state (a duplicate, the last owner...)."""

    status_code = 409
