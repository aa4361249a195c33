"""The project stands on its own: a clone with nothing beside it has every rule, document and
test file it names."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Written in two parts, so that this file does not name it itself.
OUTSIDE = "../" + "shared"


def tracked_files():
    listing = subprocess.run(  # noqa: S603 (git with our own arguments)
        ["git", "ls-files", "-z"],  # noqa: S607 (git from the PATH, as make and CI run it)
        cwd=ROOT,
        capture_output=True,
        check=True,  # noqa: S607
    ).stdout
    return [ROOT / name for name in listing.decode().split("\0") if name]


def test_no_tracked_file_names_a_folder_outside_the_project():
    offenders = []
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue  # binary files (screenshots, compiled catalogues); files deleted in the work tree
        if OUTSIDE in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_worked_example_ships_with_the_tests():
    folder = ROOT / "tests" / "data" / "worked"
    names = {path.name for path in folder.glob("*.csv")}

    assert names == {
        "agencies.csv",
        "competitions.csv",
        "competitions-closed.csv",
        "targets.csv",
        "commitments.csv",
        "jurors.csv",
        "values.csv",
        "scores.csv",
        "adjustments.csv",
    }


def test_every_document_the_docs_link_to_exists():
    import re

    missing = []
    for doc in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", doc.read_text(encoding="utf-8")):
            if target.startswith("http"):
                continue
            if not (doc.parent / target).resolve().is_file():
                missing.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert missing == []
