"""`build` writes build/ while Grafana may be provisioning from it: a reader in another process
never finds build/dashboards missing, a dashboard missing, or a file that is not valid JSON;
stale files go, and an obstacle stops the build before anything is written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ktrdr_dashboards import build
from ktrdr_dashboards.errors import DashboardError

REBUILDS = 200
NAMES = ("operations.json", "system-overview.json", "worker-status.json")

# Polls build/dashboards until told to stop: lists the folder, reads and parses every expected
# dashboard, and reports what it saw (the variants, so the test knows rebuilds were observed).
POLLER = textwrap.dedent(
    """
    import json, os, sys
    folder, ready, stop = sys.argv[1:4]
    expected = sys.argv[4:]
    polls, problems, variants = 0, [], set()
    open(ready, "w").close()
    while not os.path.exists(stop):
        polls += 1
        try:
            present = {n for n in os.listdir(folder) if n.endswith(".json")}
        except FileNotFoundError:
            problems.append(f"poll {polls}: {folder} does not exist")
            continue
        if len(present) < len(expected):
            problems.append(f"poll {polls}: only {sorted(present)}")
        for name in expected:
            try:
                with open(os.path.join(folder, name), "rb") as handle:
                    variants.add(json.loads(handle.read())["variant"])
            except (OSError, ValueError, KeyError) as error:
                problems.append(f"poll {polls}: {name}: {type(error).__name__}: {error}")
    print(json.dumps({"polls": polls, "problems": problems[:10], "variants": sorted(variants)}))
    """
)


def variant(n: int) -> dict[str, str]:
    """A build's files; dashboards of a few hundred KB, so a copy takes a while to write. Odd
    variants carry one more dashboard, so every other rebuild removes a stale file."""
    panels = [{"id": i, "title": f"panel {i} of build {n}", "pad": "x" * 2000} for i in range(60)]
    names = (*NAMES, "extra.json") if n % 2 else NAMES
    files = {
        f"dashboards/{name}": json.dumps({"variant": n % 2, "uid": name, "panels": panels})
        for name in names
    }
    files["provisioning/dashboards/ktrdr.yaml"] = f"# build {n}\n"
    return files


def test_a_reader_never_sees_the_dashboards_folder_missing_or_broken(tmp_path: Path):
    out = tmp_path / "build"
    build.write_tree(out, variant(0))
    ready, stop = tmp_path / "ready", tmp_path / "stop"
    poller = subprocess.Popen(
        [sys.executable, "-c", POLLER, str(out / "dashboards"), str(ready), str(stop), *NAMES],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        while not ready.exists() and poller.poll() is None:
            time.sleep(0.01)
        for n in range(1, REBUILDS + 1):
            build.write_tree(out, variant(n))
    finally:
        stop.touch()
        output, _ = poller.communicate(timeout=60)
    seen = json.loads(output)
    assert seen["problems"] == []
    assert seen["variants"] == [0, 1]  # the reader did watch the rebuilds happen
    assert sorted(p.name for p in (out / "dashboards").iterdir()) == sorted(NAMES)


def test_stale_files_and_emptied_folders_are_removed(tmp_path: Path):
    out = tmp_path / "build"
    build.write_tree(out, {**variant(1), "prometheus/rules/x.yml": "groups: []\n"})
    (out / "dist").mkdir()
    (out / "dist" / "keep.tar.gz").write_bytes(b"release")
    build.write_tree(out, variant(0))
    assert sorted(p.name for p in (out / "dashboards").iterdir()) == sorted(NAMES)
    assert not (out / "prometheus").exists()
    assert (out / "dist" / "keep.tar.gz").read_bytes() == b"release"


def test_an_obstacle_stops_the_build_before_anything_is_written(tmp_path: Path):
    out = tmp_path / "build"
    build.write_tree(out, variant(0))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "provisioning" / "datasources").write_text("a file where a folder must go")
    files = {**variant(1), "provisioning/datasources/ktrdr.yaml": "datasources: []\n"}
    expected = (
        f"{out}: cannot write provisioning/datasources/ktrdr.yaml: "
        f"{out / 'provisioning' / 'datasources'} is in the way (expected a folder); nothing was "
        "written — move the obstacle away and build again"
    )
    with pytest.raises(DashboardError, match=f"^{re.escape(expected)}$"):
        build.write_tree(out, files)
    (out / "provisioning" / "datasources").unlink()
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_a_folder_where_a_file_goes_stops_the_build_before_anything_is_written(tmp_path: Path):
    out = tmp_path / "build"
    build.write_tree(out, variant(0))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    (out / "dashboards" / "operations.json").unlink()
    (out / "dashboards" / "operations.json").mkdir()
    expected = (
        f"{out}: cannot write dashboards/operations.json: {out / 'dashboards' / 'operations.json'}"
        " is a folder (expected a file); nothing was written — move the obstacle away and build "
        "again"
    )
    with pytest.raises(DashboardError, match=f"^{re.escape(expected)}$"):
        build.write_tree(out, variant(1))
    (out / "dashboards" / "operations.json").rmdir()
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == {p: b for p, b in before.items() if p.name != "operations.json"}
    assert not [p for p in out.rglob(".*")]
