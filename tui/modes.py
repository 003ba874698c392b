"""The app's screens by name, in key order (1–6). The app's modes, the command palette and
``tokenfleet tui --start`` all use this list; it imports no Textual, so the CLI can read it."""

SCREENS = ("dashboard", "devices", "holders", "readers", "transfers", "desk")
