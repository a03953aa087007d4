"""Shared test settings: CI replays the same hypothesis examples every run, so a
green run stays green; locally, hypothesis keeps exploring new ones."""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")
