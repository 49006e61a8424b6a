"""The one error the training library raises for a problem the user can fix."""


class TrainingError(Exception):
    """A missing checkpoint, folder or crop list, an unknown preset, a
    mismatched teacher: main.py prints it and exits 2."""
