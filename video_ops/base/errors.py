"""The one exception type whose message is safe to show the caller."""


class JobError(Exception):
    """An expected failure: its message is one clear sentence naming the field or URL at fault.

    Anything else raised inside a job is a bug; the worker logs it and returns a generic message,
    so no traceback or internal path reaches the caller.
    """
