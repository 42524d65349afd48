"""One exception tree for the project, so callers can catch what is ours."""

from __future__ import annotations


class IVRError(Exception):
    """Base of every error this package raises on purpose."""


class FlowError(IVRError):
    """A call flow is declared wrongly (found when the app starts or by `flows check`)."""


class PromptError(IVRError):
    """A prompt is missing from a language catalog or cannot be filled in."""


class ConfigError(IVRError):
    """A setting has a value the app cannot use."""
