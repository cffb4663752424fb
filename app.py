"""App: start the web UI over the corpus (``python app.py``); the index is built in the background if needed."""

from __future__ import annotations

import logging
import sys

from assistant.errors import AssistantError
from assistant.pipeline import Assistant
from assistant.settings import load_settings
from assistant.web.ui import launch


def main() -> int:
    """Load the settings, build the Assistant and serve it on ``ui.host:ui.port`` (127.0.0.1:7860 by default)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    logging.getLogger("assistant").setLevel(logging.INFO)
    try:
        launch(Assistant(load_settings()))
    except AssistantError as exc:
        logging.getLogger("app").error("Error: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
