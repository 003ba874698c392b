"""Screens (full-page modes) and modals."""
