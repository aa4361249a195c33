"""The package as a Wagtail developer meets it (issue 18), run by `make test-matrix`:

1. build the sdist and the wheel from a clean clone of HEAD (scripts/build_release.py: Chart.js
   inside, `twine check`, no demo file);
2. on the newest Python of this machine, in a new virtual environment, follow docs/integration.md
   to the letter: every `sh` block it marks with `<!-- fresh-site: run DIR -->` is run as written
   (`pip install wagtail`, `wagtail start mysite`, the wheel, migrate, the imports of the worked
   example, collectstatic with the site's production settings), every `python` block is put where
   its comment says;
3. check, with the site's production settings (ManifestStaticFilesStorage, Redis): the system
   checks, a competition page with hashed static files, scoreboard.json, the admin; under the
   development settings, that `wagtail start`'s media route was reported (competition.W006)
   before the guide's replacement and is not after.

    python tests/install/fresh_site.py [--python python3.13] [--keep]

Needs git, make, npm (for Chart.js) and redis-server (`make redis`). Exits non-zero on the first
failure, saying what failed.
"""

import argparse
import json
import os
import re
import shutil
import socket
import subprocess  # nosec B404: runs the commands of the guide and our own tools
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
GUIDE = ROOT / "docs" / "integration.md"
WORKED = ROOT / "tests" / "data" / "worked"
sys.path.insert(0, str(ROOT / "scripts"))

from build_release import build  # noqa: E402

STEP = re.compile(
    r"^<!-- fresh-site: (?P<step>[^\n]+?) -->\n```(?P<lang>\w+)\n(?P<code>.*?)^```", re.DOTALL | re.MULTILINE
)
SECRET_KEY = "fresh-site-check-" + "k" * 50


class Failure(Exception):
    pass


def newest_python():
    for minor in range(20, 10, -1):
        found = shutil.which(f"python3.{minor}")
        if found and subprocess.run([found, "--version"], capture_output=True).returncode == 0:  # noqa: S603
            return found
    raise Failure("no python3.N on PATH")


def run(command, cwd, env, *, shell=False, check=True):
    print(f"+ [{Path(cwd).name}] {command if shell else ' '.join(map(str, command))}", flush=True)
    result = subprocess.run(  # noqa: S603  # nosec B602 B603: the guide's own commands
        command if shell else [str(part) for part in command],
        cwd=cwd,
        env=env,
        shell=shell,
        executable="/bin/bash" if shell else None,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check and result.returncode != 0:
        raise Failure(f"{command} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def steps(guide_text):
    found = [(match["step"], match["lang"], match["code"]) for match in STEP.finditer(guide_text)]
    if len(found) < 8:
        raise Failure(f"{GUIDE} has {len(found)} marked steps; its fresh-site comments were lost")
    return found


def apply_snippet(step, code, work):
    """`insert FILE after|before LINE`, `replace FILE LINE`, `append FILE`: LINE is the text of one
    line of FILE as it stands (compared without surrounding blanks)."""
    match = re.fullmatch(r"(?:(insert) (\S+) (after|before)|(replace) (\S+)) (.+)|(append) (\S+)", step)
    if not match:
        raise Failure(f"unknown step {step!r} in {GUIDE}")
    insert, insert_file, where, replace, replace_file, anchor, append, append_file = match.groups()
    action, name = insert or replace or append, insert_file or replace_file or append_file
    path = work / name
    text = path.read_text()
    if action == "append":
        text = text.rstrip("\n") + "\n\n" + code
    else:
        lines = text.split("\n")
        hits = [index for index, line in enumerate(lines) if line.strip() == anchor.strip()]
        if len(hits) != 1:
            raise Failure(f"{name}: the guide's anchor {anchor!r} is found {len(hits)} times, not once")
        index = hits[0]
        block = code.rstrip("\n").split("\n")
        if action == "replace":
            lines[index : index + 1] = block
        elif where == "after":
            lines[index + 1 : index + 1] = block
        else:
            lines[index:index] = block
        text = "\n".join(lines)
    path.write_text(text)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis(folder):
    binary = shutil.which("redis-server")
    if binary is None:
        raise Failure("redis-server is missing (make redis)")
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return server, f"redis://127.0.0.1:{port}/0"
        time.sleep(0.05)
    server.terminate()
    raise Failure("redis-server did not start")


def check_ids(output):
    return sorted(set(re.findall(r"\((competition\.[EW]\d+)\)", output)))


PROBE = """
import json
from django.contrib.auth import get_user_model
from django.test import Client
from django.templatetags.static import static
import competition
reader = Client()
page = reader.get("/worked/?as_of=2025-07-02", HTTP_HOST="localhost")
# The page cache learns the URL on the first request, keeps the second's response, serves the third.
reader.get("/worked/?as_of=2025-07-02", HTTP_HOST="localhost")
again = reader.get("/worked/?as_of=2025-07-02", HTTP_HOST="localhost")
data = reader.get("/worked/scoreboard.json?as_of=2025-07-02", HTTP_HOST="localhost")
user = get_user_model().objects.create_superuser("fresh-admin", "admin@example.org", "fresh-site-pass-2025")
admin = Client()
admin.force_login(user)
dashboard = admin.get("/admin/", HTTP_HOST="localhost")
review = admin.get("/admin/review/", HTTP_HOST="localhost")
importer = admin.get("/admin/competition-import/", HTTP_HOST="localhost")
print(json.dumps({
    "module": competition.__file__,
    "page": page.status_code, "html": page.content.decode(), "cache": again.get("X-Cache"),
    "json": data.status_code, "scores": [a["score_percent"] for a in data.json()["agencies"]],
    "dashboard": dashboard.status_code, "admin_html": dashboard.content.decode(),
    "review": review.status_code, "import": importer.status_code,
    "chart": static("competition/vendor/chart.umd.js"),
}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--python", default=None, help="the interpreter of the new site (default: the newest)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    options = parser.parse_args()
    python = options.python or newest_python()
    work = Path(tempfile.mkdtemp(prefix="competition-fresh-site-"))
    redis = None
    try:
        wheel = build(work / "dist")
        venv = work / "venv"
        run([python, "-m", "venv", venv], work, os.environ)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "DATABASE_URL", "VIRTUAL_ENV", "PYTHON"))
        }
        env.update(PATH=f"{venv / 'bin'}:{env['PATH']}", VIRTUAL_ENV=str(venv), PIP_DISABLE_PIP_VERSION_CHECK="1")
        redis, redis_url = start_redis(work)
        env["REDIS_URL"] = redis_url
        site = work / "mysite"
        checked_media = False
        for step, _lang, code in steps(GUIDE.read_text(encoding="utf-8")):
            if step.startswith("run "):
                folder = work / step.split(" ", 1)[1]
                if folder == site and not (site / "agencies.csv").exists() and site.exists():
                    shutil.copy(wheel, site / wheel.name)
                    for csv in WORKED.glob("*.csv"):
                        shutil.copy(csv, site / csv.name)
                # The commands as written, in one shell per block (a `cd` holds within its block).
                run("set -euo pipefail\n" + code, folder, env, shell=True)  # noqa: S604
            else:
                if step.startswith("replace mysite/mysite/urls.py") and not checked_media:
                    # Before the guide's replacement, wagtail start's media route serves evidence.
                    before = run([venv / "bin/python", "manage.py", "check"], site, env, check=False)
                    if "competition.W006" not in before.stdout + before.stderr:
                        raise Failure("wagtail start's static(MEDIA_URL) route was not reported:\n" + before.stderr)
                    checked_media = True
                apply_snippet(step, code, work)
        if not checked_media:
            raise Failure("the guide no longer replaces wagtail start's media route")

        production = {**env, "DJANGO_SETTINGS_MODULE": "mysite.settings.production"}
        (site / "mysite" / "settings" / "local.py").write_text(
            f'SECRET_KEY = "{SECRET_KEY}"\nALLOWED_HOSTS = ["localhost"]\n'
        )
        dev_check = run([venv / "bin/python", "manage.py", "check"], site, env)
        prod_check = run([venv / "bin/python", "manage.py", "check"], site, production)
        problems = []
        if check_ids(dev_check.stdout + dev_check.stderr) != ["competition.W004"]:
            problems.append("development settings: " + dev_check.stderr)
        if check_ids(prod_check.stdout + prod_check.stderr):
            problems.append("production settings: " + prod_check.stderr)
        output = run([venv / "bin/python", "manage.py", "shell", "-c", PROBE], site, production).stdout
        data = json.loads(output.strip().splitlines()[-1])
        versions = run(
            [
                venv / "bin/python",
                "-c",
                "import sys, django, wagtail; print(sys.version.split()[0], django.__version__, wagtail.__version__)",
            ],
            site,
            env,
        ).stdout.split()
        if not data["module"].startswith(str(venv)):
            problems.append(f"competition imported from {data['module']}, not the installed wheel")
        # Judging is open in the worked example's competitions.csv: the public board leaves the jury's
        # points out (docs/scoring.md, "Jury points are published when judging closes").
        if (data["page"], data["json"], data["scores"]) != (200, 200, [86.5, 16]):
            problems.append(f"page {data['page']}, scoreboard.json {data['json']}, scores {data['scores']}")
        if "Agency A" not in data["html"] or not re.search(r"86\.50(\u00a0|&nbsp;|&#160;)%", data["html"]):
            problems.append("the competition page lacks the worked example's figures")
        hashed = re.fullmatch(r"/static/competition/vendor/chart\.umd\.[0-9a-f]{12}\.js", data["chart"])
        if not hashed or data["chart"] not in data["html"] or not (site / "static" / data["chart"][8:]).is_file():
            problems.append(f"Chart.js is not served from the manifest: {data['chart']}")
        if data["cache"] != "hit":
            problems.append(f"the third anonymous reader was not served from Redis (X-Cache {data['cache']})")
        if (data["dashboard"], data["review"], data["import"]) != (200, 200, 200):
            problems.append(f"admin: dashboard {data['dashboard']}, review {data['review']}, import {data['import']}")
        if "Competitions" not in data["admin_html"]:
            problems.append("the admin menu has no Competitions")
        if problems:
            raise Failure("\n".join(problems))
        print(f"fresh site OK: Python {versions[0]}, Django {versions[1]}, Wagtail {versions[2]}, {wheel.name}")
    except Failure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    finally:
        if redis is not None:
            redis.terminate()
            redis.wait(timeout=10)
        if options.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
