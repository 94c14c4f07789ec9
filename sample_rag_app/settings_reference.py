"""The settings reference, docs/settings.md: every environment variable of the app and the
services beside it, rendered from their settings models.

The defaults are the fields' own, so the reference cannot drift from what is read; a unit
test renders it again and compares. Write it with
``python -m sample_rag_app.settings_reference > docs/settings.md``.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings

from sample_rag_app.runtime.variables import markdown_table
from sample_rag_app.services.alert_sink.settings import AlertSinkSettings
from sample_rag_app.services.loadgen.settings import LoadgenSettings
from sample_rag_app.services.provider.settings import ProviderSettings
from sample_rag_app.settings import Settings

#: Each Python service of the stack and the model its settings are read with (the gateway
#: is HAProxy, configured by `lab generate`; the provider is not in the compose stack yet).
SERVICES: tuple[tuple[str, str, type[BaseSettings]], ...] = (
    ("app", "sample_rag_app/settings.py", Settings),
    ("loadgen", "sample_rag_app/services/loadgen/settings.py", LoadgenSettings),
    ("alert-sink", "sample_rag_app/services/alert_sink/settings.py", AlertSinkSettings),
    ("provider", "sample_rag_app/services/provider/settings.py", ProviderSettings),
)

INTRO = """# Settings

Every environment variable the stack's services read, with its default and the values it
allows. Rendered from the settings models by `python -m sample_rag_app.settings_reference
> docs/settings.md` (a unit test fails when this file differs). A value outside what a
variable allows stops the service at start-up with exit status 2 and one line per bad
variable. Durations are in seconds, rates are fractions between 0 and 1; `unset` means the
variable is not set.
"""


def render() -> str:
    """The whole reference, one section per service."""
    parts = [INTRO]
    for service, path, model in SERVICES:
        parts.append(f"\n## {service} (`{path}`)\n\n" + "\n".join(markdown_table(model)) + "\n")
    return "".join(parts)


if __name__ == "__main__":
    print(render(), end="")
