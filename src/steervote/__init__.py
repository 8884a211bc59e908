"""steervote: committee motions decided by email."""

__version__ = "0.1.0"
