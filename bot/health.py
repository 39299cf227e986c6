"""What a feature reports about the outside systems it depends on, for /readyz and /iris status."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Health:
    """One check: `message` is an English sentence id with {placeholders}, so status can translate it."""

    name: str  # its key in /readyz
    label: str  # its English title in /iris status
    ok: bool
    message: str
    values: dict[str, object] = field(default_factory=dict)
    required: bool = True  # False: shown, but IRIS is ready (serving Slack and webhooks) without it

    def detail(self) -> str:
        return self.message.format(**self.values)


class Probe:
    """A service that can tell how its outside system is doing; found among the features' services
    (a base class rather than a Protocol, so it is found by isinstance without guessing by shape)."""

    def health(self) -> Health | None:
        """None when the feature does not use the system (not configured)."""
        raise NotImplementedError
