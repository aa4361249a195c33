"""Build the release (`make release`): the sdist and the wheel of the committed HEAD, from a clean
clone, with Chart.js vendored inside; then `twine check --strict` and a check of what each holds.

    python scripts/build_release.py OUT_DIR

The clone gets its static files with `make static` (npm, pinned by package-lock.json); the wheel is
built from the sdist, so a file the sdist forgets is missing from the wheel too and fails here.
Uncommitted changes are not in the release: commit first.
"""

import re
import shutil
import subprocess  # nosec B404: runs git, make and the build tools with argument lists built here
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "competition"
# Top-level paths of the repository that belong to the demo site or to development, never to a
# distribution.
NEVER = (
    "home/",
    "config/",
    "bench/",
    "templates/",
    "fixtures/",
    "tests/",
    "scripts/",
    "docs/",
    "locale/",
    "node_modules/",
)
SDIST_FILES = {
    "LICENSE",
    "README.pypi.md",
    "CHANGELOG.md",
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "MANIFEST.in",
    "PKG-INFO",
}


def run(*args, cwd=None, capture=False):
    print("+", " ".join(str(arg) for arg in args), flush=True)
    command = [shutil.which(str(args[0])) or str(args[0]), *(str(arg) for arg in args[1:])]
    result = subprocess.run(command, cwd=cwd, check=True, capture_output=capture, text=True)  # noqa: S603  # nosec B603
    return result.stdout


def check_wheel(path, version):
    with zipfile.ZipFile(path) as wheel:
        names = wheel.namelist()
        chart = wheel.read(f"{PACKAGE}/static/{PACKAGE}/vendor/chart.umd.js")
        metadata = wheel.read(f"wagtail_emulation_competitions-{version}.dist-info/METADATA").decode()
    problems = [name for name in names if not name.startswith((f"{PACKAGE}/", "wagtail_emulation_competitions-"))]
    problems += [name for name in names if name.endswith((".pyc", ".orig", ".rej", "~")) or "__pycache__" in name]
    problems += [
        name for name in names if "/bench/" in name or "competition_bench" in name or "competition_generate" in name
    ]
    required = [
        f"{PACKAGE}/static/{PACKAGE}/vendor/chart.js-LICENSE.md",
        f"{PACKAGE}/locale/vi/LC_MESSAGES/django.mo",
        f"{PACKAGE}/locale_js/vi/LC_MESSAGES/djangojs.mo",
        f"{PACKAGE}/migrations/0001_initial.py",
        f"{PACKAGE}/templates/{PACKAGE}/pages/base_page.html",
        f"wagtail_emulation_competitions-{version}.dist-info/licenses/LICENSE",
    ]
    problems += [f"missing {name}" for name in required if name not in names]
    if b"sourceMappingURL" in chart or b"Chart.js v4" not in chart[:300]:
        problems.append("chart.umd.js is not the vendored Chart.js without its source-map line")
    if "License-Expression: BSD-3-Clause AND MIT" not in metadata:
        problems.append("no SPDX License-Expression in METADATA")
    return problems


def check_sdist(path):
    with tarfile.open(path) as sdist:
        files = [member.name.split("/", 1)[1] for member in sdist.getmembers() if member.isfile()]
    problems = [
        name
        for name in files
        if not name.startswith((f"{PACKAGE}/", "wagtail_emulation_competitions.egg-info/")) and name not in SDIST_FILES
    ]
    problems += [name for name in files if name.startswith(NEVER)]
    problems += [name for name in files if "__pycache__" in name or name.endswith(".pyc")]
    return problems


def build(out):
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with tempfile.TemporaryDirectory(prefix="competition-release-") as work:
        clone = Path(work) / "clone"
        run("git", "clone", "--quiet", "--no-hardlinks", ROOT, clone)
        head = run("git", "rev-parse", "HEAD", cwd=ROOT, capture=True).strip()
        run("git", "checkout", "--quiet", "--detach", head, cwd=clone)
        # Chart.js only (npm ci, then the vendored copy): no Python virtualenv in the clone.
        run("make", "--no-print-directory", "static", cwd=clone)
        for stale in out.glob("wagtail_emulation_competitions-*"):
            stale.unlink()
        # `python -m build` builds the sdist, then the wheel from it.
        run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, clone)
    sdist = out / f"wagtail_emulation_competitions-{version}.tar.gz"
    wheel = out / f"wagtail_emulation_competitions-{version}-py3-none-any.whl"
    run(sys.executable, "-m", "twine", "check", "--strict", sdist, wheel)
    problems = [f"wheel: {p}" for p in check_wheel(wheel, version)] + [f"sdist: {p}" for p in check_sdist(sdist)]
    if problems:
        sys.exit("The release holds what it should not, or lacks what it needs:\n  " + "\n  ".join(problems))
    print(f"Built and checked {sdist.name} and {wheel.name} in {out}")
    return wheel


if __name__ == "__main__":
    if len(sys.argv) != 2 or not re.match(r"^[^-]", sys.argv[1]):
        sys.exit(__doc__)
    build(sys.argv[1])
