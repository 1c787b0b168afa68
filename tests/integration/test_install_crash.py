"""Installs that collide or die: a second `install` under the same root waits for the first,
and an install or rollback killed with SIGKILL at any step is rolled back or completed by the
next command, so the root holds exactly the old or the new release, state folder included.

The child processes count their own file-system changes under the root (a Python audit hook)
and kill or pause themselves before change N, so every point is reproducible."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from release_support import tree_digest
from test_install import releases  # noqa: F401  (the module fixture: 0.1.0 and 0.2.0)

from ktrdr_dashboards import cli

KILL_POINTS = 24
ROLLBACK_KILL_POINTS = 8
SEED = 15

CHILD = textwrap.dedent(
    """
    import os, signal, sys, time
    root, kill_at, pause_at, pause_dir, *argv = sys.argv[1:]
    kill_at, pause_at = int(kill_at), int(pause_at)
    changes = {"os.rename", "os.remove", "os.mkdir", "os.rmdir", "shutil.rmtree", "os.chmod"}
    count = 0

    def hook(event, args):
        global count
        if event == "open":
            _, mode, flags = args
            writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT
            if not (flags & writes if isinstance(flags, int) else set(mode or "") & set("wax+")):
                return
        elif event not in changes:
            return
        if not str(args[0]).startswith(root):
            return
        count += 1
        if count == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        if count == pause_at:
            os.close(os.open(os.path.join(pause_dir, "paused"), os.O_CREAT | os.O_WRONLY))
            while not os.path.exists(os.path.join(pause_dir, "go")):
                time.sleep(0.01)

    sys.addaudithook(hook)
    from ktrdr_dashboards import cli
    code = cli.main(argv)
    print(f"changes {count}", file=sys.stderr)
    sys.exit(code)
    """
)


def child(root: Path, *argv: str, kill_at: int = 0, pause_at: int = 0, pause_dir: Path = Path("/")):
    hooks = (str(root), str(kill_at), str(pause_at), str(pause_dir))
    return [sys.executable, "-c", CHILD, *hooks, *argv, "--root", str(root)]


def run_child(root: Path, *argv: str, kill_at: int = 0) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        child(root, *argv, kill_at=kill_at), capture_output=True, text=True, env=env, check=False
    )


def changes_made(result: subprocess.CompletedProcess[str]) -> int:
    assert result.returncode == 0, result.stderr
    return int(result.stderr.strip().splitlines()[-1].removeprefix("changes "))


def install(root: Path, *argv: str) -> None:
    assert cli.main(["install", *argv, "--root", str(root)]) == 0


@pytest.fixture(scope="module")
def roots(releases, tmp_path_factory) -> dict[str, Path]:  # noqa: F811
    """Roots in the states a kill may leave: 0.1.0 installed, 0.2.0 over it, and rolled back."""
    base = tmp_path_factory.mktemp("roots")
    old, new, back = base / "old", base / "new", base / "back"
    install(old, str(releases["0.1.0"]))
    shutil.copytree(old, new)
    install(new, str(releases["0.2.0"]))
    shutil.copytree(new, back)
    install(back, "--rollback")
    return {"old": old, "new": new, "back": back}


def state_of(root: Path, roots: dict[str, Path]) -> str:
    digest = tree_digest(root)
    names = [name for name, known in roots.items() if tree_digest(known) == digest]
    assert names, f"{root} holds a mix of releases"
    return names[0]


def test_install_killed_at_any_step_ends_old_or_new(releases, roots, tmp_path, capsys):  # noqa: F811
    tarball = str(releases["0.2.0"])
    dry = tmp_path / "dry"
    shutil.copytree(roots["old"], dry)
    steps = changes_made(run_child(dry, "install", tarball))
    assert state_of(dry, roots) == "new"
    outcomes: dict[int, str] = {}
    for point in sorted(random.Random(SEED).sample(range(1, steps + 1), KILL_POINTS)):
        root = tmp_path / f"kill-{point}"
        shutil.copytree(roots["old"], root)
        killed = run_child(root, "install", tarball, kill_at=point)
        assert killed.returncode == -signal.SIGKILL, killed.stderr
        capsys.readouterr()
        install(root, "--recover")
        said = capsys.readouterr().out
        outcomes[point] = state_of(root, roots)
        expected = {"old": "rolled back", "new": "completed"}[outcomes[point]]
        assert said.startswith(
            (f"{expected} an interrupted install of 0.2.0", "nothing to recover")
        ), said
        # The state is whole: installing the release again gives exactly the upgraded root.
        install(root, tarball)
        assert state_of(root, roots) == "new"
    assert set(outcomes.values()) == {"old", "new"}, outcomes


def test_the_next_install_finishes_a_killed_one_first(releases, roots, tmp_path, capsys):  # noqa: F811
    dry, root = tmp_path / "dry", tmp_path / "root"
    shutil.copytree(roots["old"], dry)
    shutil.copytree(roots["old"], root)
    steps = changes_made(run_child(dry, "install", str(releases["0.2.0"])))
    # Killed among the last changes: every file is in place, the state folder is not.
    killed = run_child(root, "install", str(releases["0.2.0"]), kill_at=steps - 3)
    assert killed.returncode == -signal.SIGKILL
    capsys.readouterr()
    install(root, str(releases["0.2.0"]))
    assert "note: completed an interrupted install of 0.2.0" in capsys.readouterr().err
    assert state_of(root, roots) == "new"


def test_rollback_killed_at_any_step_ends_before_or_after(roots, tmp_path):
    dry = tmp_path / "dry"
    shutil.copytree(roots["new"], dry)
    steps = changes_made(run_child(dry, "install", "--rollback"))
    assert state_of(dry, roots) == "back"
    outcomes = set()
    for point in random.Random(SEED).sample(range(1, steps + 1), ROLLBACK_KILL_POINTS):
        root = tmp_path / f"kill-{point}"
        shutil.copytree(roots["new"], root)
        killed = run_child(root, "install", "--rollback", kill_at=point)
        assert killed.returncode == -signal.SIGKILL
        install(root, "--recover")
        outcomes.add(state_of(root, roots))
    assert outcomes <= {"new", "back"}


def test_a_second_install_waits_for_the_first(releases, roots, tmp_path):  # noqa: F811
    """The first install pauses while it holds the lock; the second says it is waiting and
    does nothing until the first is done; then it installs over it."""
    root, pause = tmp_path / "root", tmp_path / "pause"
    pause.mkdir()
    env = {"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"}
    first = subprocess.Popen(
        child(root, "install", str(releases["0.1.0"]), pause_at=8, pause_dir=pause),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while not (pause / "paused").exists():
            assert first.poll() is None, first.communicate()
            time.sleep(0.01)
        second = subprocess.Popen(
            child(root, "install", str(releases["0.2.0"])),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert second.stderr is not None
        waiting = second.stderr.readline()
        assert waiting.startswith("note: waiting for another install or rollback to finish (")
        assert second.poll() is None and first.poll() is None
    finally:
        (pause / "go").touch()
    assert first.wait(timeout=60) == 0
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "installed 0.2.0" in out and "replacing 0.1.0" in out
    assert state_of(root, roots) == "new"
