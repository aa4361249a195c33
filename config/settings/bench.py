"""Production settings for benchmarks on the loopback: plain HTTP, and the bench URLconf with a
bare Django view to compare against (never in the production URLs)."""

from .production import *  # noqa: F403

ROOT_URLCONF = "config.urls_bench"
SECURE_SSL_REDIRECT = False
