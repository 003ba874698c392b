"""The fleet manager's terminal UI (Textual). Start it with ``tokenfleet tui``."""
