"""Readers for the real raw formats; each returns :class:`neurodyn.io.calcium.WormRecord`s."""
