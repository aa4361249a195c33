"""The competition app installs into a site made by `wagtail start`, from its wheel alone:
no `home` app, no templates or settings of ours (issue 10)."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKED = ROOT / "tests" / "data" / "worked"
# What a build needs besides the package (pyproject.toml's readme and license files, setup.py's check).
SOURCE_FILES = ("pyproject.toml", "setup.py", "README.pypi.md", "LICENSE", "MANIFEST.in", "CHANGELOG.md")
KINDS = ["agencies", "competitions", "targets", "commitments", "jurors", "values", "scores", "adjustments"]

pytestmark = [
    pytest.mark.skipif(
        os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="uses its own SQLite site; run once"
    ),
    # Builds the wheel of this checkout: run by `make test`, not in each environment of the matrix.
    pytest.mark.demo,
]


def run(args, cwd, env=None, timeout=300):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def test_no_module_of_the_app_imports_the_demo_site():
    offenders = []
    for path in (ROOT / "competition").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(from|import)\s+(home|config)\b", text, re.MULTILINE):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.slow  # 70 to 120 s: first of all (tests/conftest.py)
def test_wheel_installs_into_a_fresh_wagtail_site(tmp_path):
    python = sys.executable
    # Build from a copy, so that no build/ folder of an earlier run leaks stale files in.
    source = tmp_path / "source"
    shutil.copytree(ROOT / "competition", source / "competition", ignore=shutil.ignore_patterns("__pycache__"))
    for name in SOURCE_FILES:
        shutil.copy(ROOT / name, source / name)
    build = [python, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "-q"]
    run([*build, "-w", str(tmp_path / "dist")], source)
    wheel = next((tmp_path / "dist").glob("*.whl"))
    run([python, "-m", "pip", "install", "--no-deps", "-q", "--target", str(tmp_path / "lib"), str(wheel)], tmp_path)
    # The compiled Vietnamese catalogue ships inside: a site needs no gettext to use it.
    assert (tmp_path / "lib" / "competition" / "locale" / "vi" / "LC_MESSAGES" / "django.mo").is_file()
    wagtail = Path(python).with_name("wagtail")
    (tmp_path / "site").mkdir()
    run([str(wagtail), "start", "hostsite", str(tmp_path / "site")], tmp_path)
    site = tmp_path / "site"

    # Integrate as docs/integration.md says.
    base = site / "hostsite" / "settings" / "base.py"
    settings_text = base.read_text()
    settings_text = "import os\n" + settings_text.replace(
        "INSTALLED_APPS = [\n",
        'INSTALLED_APPS = [\n    "competition",\n    "wagtail.contrib.routable_page",\n'
        '    "django_tables2",\n    "import_export",\n',
        1,
    )
    base.write_text(settings_text)
    urls = site / "hostsite" / "urls.py"
    urls.write_text(
        urls.read_text().replace(
            "urlpatterns = urlpatterns + [\n",
            'urlpatterns = urlpatterns + [\n    path("", include("competition.urls")),\n',
            1,
        )
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "PYTEST", "MEDIA_ROOT"))
    }
    env.update(PYTHONPATH=str(tmp_path / "lib"), DJANGO_SETTINGS_MODULE="hostsite.settings.dev")
    manage = [python, "manage.py"]
    run([*manage, "migrate", "--noinput", "-v0"], site, env)
    # The site's production settings collect static files with ManifestStaticFilesStorage, which
    # refuses a file naming another that is missing (Chart.js named its source map: issue 18).
    production = {**env, "DJANGO_SETTINGS_MODULE": "hostsite.settings.production"}
    run([*manage, "collectstatic", "--noinput", "-v0"], site, production)
    manifest = json.loads((site / "static" / "staticfiles.json").read_text())["paths"]
    assert re.fullmatch(r"competition/vendor/chart\.umd\.[0-9a-f]{12}\.js", manifest["competition/vendor/chart.umd.js"])
    # The first file through the command line, as docs/integration.md shows it; the others, then
    # the closing of judging (the board of docs/scoring.md's worked example with the jury's
    # points), through the same command in the process of the probe below: each process of the
    # host site took seconds to start, a dozen of them most of this test's time.
    run([*manage, "competition_import", KINDS[0], str(WORKED / f"{KINDS[0]}.csv")], site, env)
    imports = [(kind, str(WORKED / f"{kind}.csv")) for kind in KINDS[1:]]
    imports.append(("competitions", str(WORKED / "competitions-closed.csv")))
    probe = (
        "import json, competition;"
        "from django.core.management import call_command;"
        f"[call_command('competition_import', kind, path) for kind, path in {imports!r}];"
        "from django.test import Client;"
        "c = Client();"
        "r = c.get('/worked/scoreboard.json?as_of=2025-07-02', HTTP_HOST='localhost');"
        "p = c.get('/worked/?as_of=2025-07-02', HTTP_HOST='localhost');"
        "print(competition.__file__);"
        "print(json.dumps({'json': r.status_code, 'page': p.status_code, "
        "'a': [a['score_percent'] for a in r.json()['agencies']], 'html': p.content.decode()}))"
    )
    output = run([*manage, "shell", "-c", probe], site, env).strip().splitlines()
    module_file, data = output[-2], json.loads(output[-1])
    assert module_file.startswith(str(tmp_path / "lib"))  # the installed wheel, not this checkout
    assert (data["json"], data["page"], data["a"]) == (200, 200, [86, 17])
    assert "Agency A" in data["html"] and "86.00\u00a0%" in data["html"]
    assert "/static/competition/vendor/chart.umd.js" in data["html"]


def test_a_wheel_is_never_built_without_chart_js(tmp_path):
    """A clone without `make static` has no Chart.js: the build stops and says what to run,
    rather than making a wheel whose pages draw no chart."""
    source = tmp_path / "source"
    shutil.copytree(
        ROOT / "competition", source / "competition", ignore=shutil.ignore_patterns("__pycache__", "vendor")
    )
    for name in SOURCE_FILES:
        shutil.copy(ROOT / name, source / name)
    build = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation"]
    result = subprocess.run([*build, "-w", str(tmp_path / "dist")], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0
    assert "chart.umd.js is missing: run `make static`" in result.stdout + result.stderr
    assert not list((tmp_path / "dist").glob("*.whl"))
