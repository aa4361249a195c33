"""Build hooks; the package's metadata is in pyproject.toml.

The pages of the app load Chart.js from its own static files (no CDN). It is not committed: `make
static` vendors it from the npm registry (pinned by package-lock.json) without its source-map line.
A wheel or an sdist built without it would install and then draw no chart, so the build stops and
says what to run instead.
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist
from setuptools.errors import FileError

CHART_JS = Path(__file__).resolve().parent / "competition" / "static" / "competition" / "vendor" / "chart.umd.js"


def check_vendored_static_files():
    if not CHART_JS.is_file():
        raise FileError(
            f"{CHART_JS} is missing: run `make static` (or `make release`) before building the package, "
            "so that Chart.js is inside it."
        )
    if b"sourceMappingURL=" in CHART_JS.read_bytes()[-300:]:
        raise FileError(
            f"{CHART_JS} names a source map that is not shipped (ManifestStaticFilesStorage would refuse "
            "to collect it): vendor it again with `make static`."
        )


class BuildPy(build_py):
    def run(self):
        check_vendored_static_files()
        super().run()


class SDist(sdist):
    def run(self):
        check_vendored_static_files()
        super().run()


setup(cmdclass={"build_py": BuildPy, "sdist": SDist})
