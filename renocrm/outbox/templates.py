"""Message templates a firm writes in its own words: a text with ``{name}`` placeholders, checked against the
placeholders its sender fills, rendered for one recipient and previewed with sample values.

The app that sends the message declares one ``MessageTemplate`` (the shipped default text and the
placeholders it fills, with a label for the settings page) and keeps the firm's own text where its other
settings live; an empty text means the default. Any stage can text a homeowner this way without importing
another stage."""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class MessageTemplate:
    default: str  # usually lazy: rendered in the language active when the message is made
    placeholders: Mapping[str, str]  # {name: label shown next to it on the settings page}
    field: str = "template"  # the settings field a refusal is reported on

    def text(self, template: str | None) -> str:
        """The firm's own text, or the default when it has none."""
        return template or str(self.default)

    def check(self, template: str) -> str:
        """The firm's text as given, or a refusal naming a broken brace or an unknown placeholder."""
        try:
            names = {name for _text, name, _spec, _conv in string.Formatter().parse(template) if name is not None}
        except ValueError:
            raise ValidationError(
                {self.field: _("Write placeholders as {name}; a lone “{” or “}” is not allowed.")}
            ) from None
        unknown = sorted(name for name in names if name not in self.placeholders)
        if unknown or "" in names:
            raise ValidationError(
                {
                    self.field: _("Unknown placeholder %(names)s. Use: %(allowed)s.")
                    % {
                        "names": ", ".join(f"{{{n}}}" for n in unknown) or "{}",
                        "allowed": ", ".join(f"{{{n}}}" for n in self.placeholders),
                    }
                }
            )
        return template

    def render(self, template: str | None, values: Mapping[str, object]) -> str:
        """The message for one recipient; ``values`` fills every placeholder (a checked text names no other)."""
        return self.text(template).format_map(values)

    def preview(self, template: str | None, values: Mapping[str, object]) -> str:
        """The message as a recipient would read it, for a text not saved yet: unknown or broken placeholders
        stay as typed (saving names them as errors)."""
        text = self.text(template)
        parts = []
        try:
            for literal, name, _spec, _conv in string.Formatter().parse(text):
                parts.append(literal)
                if name is not None:
                    parts.append(str(values.get(name, f"{{{name}}}")))
        except ValueError:
            return text
        return "".join(parts)
