"""The one exception that is a user's mistake rather than a bug."""


class ConfigError(Exception):
    """A user mistake in params or inputs: reported as one line naming the file, the key or column and what
    was expected; exit code 2. Never retried, never caught by a check's error boundary."""
