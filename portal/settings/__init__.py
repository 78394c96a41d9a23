"""Settings package.

``base`` holds everything; the embedded default and the production stack differ only through
environment variables (see ``.env.example``). ``test`` tweaks a few speed knobs for pytest and
``production`` adds the hardening that only makes sense behind TLS.
"""
from .base import *  # noqa: F401,F403
