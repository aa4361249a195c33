"""The app's static files as a host site collects them: with Wagtail's production default,
ManifestStaticFilesStorage, which rewrites every reference a file makes and refuses one to a file
that does not exist (issue 18: Chart.js named a source map that is not shipped)."""

from pathlib import Path

import competition

STATIC = Path(competition.__file__).resolve().parent / "static"


def test_vendored_chart_js_names_no_source_map():
    chart = STATIC / "competition" / "vendor" / "chart.umd.js"
    text = chart.read_text(encoding="utf-8")
    assert "Chart.js v4" in text[:200]
    assert "sourceMappingURL" not in text


def test_collectstatic_under_the_manifest_storage(settings, tmp_path):
    from django.contrib.staticfiles.storage import ManifestStaticFilesStorage

    settings.STATIC_ROOT = str(tmp_path)
    storage = ManifestStaticFilesStorage(location=str(tmp_path))
    files = {}
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            name = path.relative_to(STATIC).as_posix()
            with path.open("rb") as handle:
                storage.save(name, handle)
            files[name] = (storage, name)
    results = list(storage.post_process(files))
    # A file that cannot be processed comes back with the exception collectstatic raises.
    assert [(name, str(outcome)) for name, _, outcome in results if isinstance(outcome, Exception)] == []
    hashed = {name: hashed_name for name, hashed_name, _ in results}
    for name in ("competition/vendor/chart.umd.js", "competition/competition.css", "competition/scoreboard.js"):
        assert (tmp_path / hashed[name]).is_file()
