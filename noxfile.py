"""Sessions over the ktrdr_dashboards package: each installs what it needs and calls the CLI
(`python -m ktrdr_dashboards COMMAND`); the logic lives in the package, not here.

Commands inherit this process's environment (nox passes it through), so KTRDR_JSONNET_ENGINE,
GRAFANA_* and PROMETHEUS_* reach the CLI without being listed here."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["build", "test"]

ROOT = Path(__file__).parent
JSONNET_DIRS = ("jsonnet", "lib", "mixin.libsonnet")
# The Debian packages and the programs they provide, shared with .ci/run (`nox -s setup`).
DEBIAN_PACKAGES = ROOT / ".ci" / "debian-packages"
APT_INSTALL = ("apt-get", "install", "-y", "--no-install-recommends")

# What each kind of session runs besides Python.
VALIDATES = ("promtool",)  # the gate and the rules check parse with promtool
FORMATS = ("jsonnetfmt",)
PREVIEWS = ("prometheus", "chromium", "npm")


def _package_of() -> dict[str, str]:
    """program -> the Debian package that provides it, from .ci/debian-packages."""
    table: dict[str, str] = {}
    for line in DEBIAN_PACKAGES.read_text(encoding="utf-8").splitlines():
        package, *programs = line.split("#", 1)[0].split() or [""]
        table.update(dict.fromkeys(programs, package))
    return table


def _require(session: nox.Session, *programs: str) -> None:
    """Install the Debian packages of missing programs when root; otherwise stop with the line
    that installs them."""
    package_of = _package_of()
    missing = [program for program in programs if shutil.which(program) is None]
    if not missing:
        return
    command = (*APT_INSTALL, *sorted({package_of[program] for program in missing}))
    if os.geteuid() != 0:
        session.error(f"{', '.join(missing)} not installed: run `{' '.join(command)}` as root")
    apt_env = {"DEBIAN_FRONTEND": "noninteractive"}
    session.run("apt-get", "update", "-qq", env=apt_env, external=True)
    session.run(*command, env=apt_env, external=True)


def _digest(*inputs: Path | str) -> str:
    """The inputs' hash: a path by its content (a missing file counts as empty)."""
    digest = hashlib.sha256()
    for item in inputs:
        if isinstance(item, Path):
            digest.update(item.read_bytes() if item.is_file() else b"")
        else:
            digest.update(item.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _once(
    session: nox.Session, name: str, inputs: tuple[Path | str, ...], install: Callable[[], object]
) -> None:
    """Run `install` unless the stamp `name` in the session's virtualenv records these inputs
    (a recreated virtualenv has no stamp); stamp them after it succeeds."""
    stamp = Path(session.virtualenv.location) / f".{name}.sha256"
    if stamp.is_file() and stamp.read_text() == _digest(*inputs):
        return
    stamp.unlink(missing_ok=True)
    install()
    stamp.write_text(_digest(*inputs))


def _install(session: nox.Session, *extras: str) -> None:
    """The package, editable: source edits need no reinstall, so it is skipped until
    pyproject.toml (dependencies, extras) changes or the virtualenv is recreated."""
    target = f".[{','.join(extras)}]" if extras else "."
    _once(session, "install", (ROOT / "pyproject.toml", target),
          lambda: session.install("-e", target))  # fmt: skip


def _npm_ci(session: nox.Session) -> None:
    """The previews' pinned packages (preview/package-lock.json) into preview/node_modules,
    which is git-ignored; skipped while the lock file and node_modules are as last installed."""
    lock = ROOT / "preview" / "package-lock.json"
    installed = ROOT / "preview" / "node_modules" / ".package-lock.json"  # written by npm
    _once(session, "npm-ci", (lock, installed),
          lambda: session.run("npm", "ci", "--prefix", "preview", "--ignore-scripts",
                              "--no-audit", "--no-fund", external=True))  # fmt: skip


def _cli(session: nox.Session, command: str, *args: str) -> None:
    session.run("python", "-m", "ktrdr_dashboards", command, *args)


@nox.session(python=False)
def setup(session: nox.Session) -> None:
    """Install every missing Debian program the project runs (.ci/debian-packages; as root)."""
    _require(session, *_package_of())


@nox.session
def build(session: nox.Session) -> None:
    """Compile, validate and write build/ (pass `-- --jpath DIR` to use another g.libsonnet)."""
    _require(session, *VALIDATES)
    _install(session)
    _cli(session, "build", *session.posargs)


@nox.session
def test(session: nox.Session) -> None:
    """The test suite: library, dashboards, validation, query truth, releases, previews."""
    _require(session, *_package_of())
    _install(session, "test")
    _npm_ci(session)  # the browser tests render previews
    session.run("pytest", *session.posargs)


@nox.session
def validate(session: nox.Session) -> None:
    """The validation gate without writing anything (`-- --grafana-schema PATH`,
    `-- --format json`, `-- --exclusions FILE`)."""
    _require(session, *VALIDATES)
    _install(session)
    _cli(session, "validate", *session.posargs)


@nox.session
def release(session: nox.Session) -> None:
    """Build, validate and write build/dist/ktrdr-dashboards-<version>.tar.gz + .sha256
    (`-- --allow-dirty` releases uncommitted changes as <version>+dirty; `-- --sign KEY`)."""
    _require(session, *VALIDATES, "ssh-keygen")
    _install(session)
    _cli(session, "release", *session.posargs)


@nox.session(name="import")
def import_(session: nox.Session) -> None:
    """Write jsonnet/NAME.jsonnet from a Grafana export: `-- FILE [NAME] [--force]`."""
    _require(session, *VALIDATES, *FORMATS)
    _install(session)
    _cli(session, "import", *session.posargs)


@nox.session
def diff(session: nox.Session) -> None:
    """Semantic diff: `-- EXPORT` against the build of its uid, or `-- A B`; `-- --live` against
    what Grafana serves (GRAFANA_URL, GRAFANA_TOKEN)."""
    _install(session)
    _cli(session, "diff", *session.posargs)


@nox.session
def apply(session: nox.Session) -> None:
    """Build, then push build/dashboards/ into Grafana's KTRDR folder (GRAFANA_URL and
    GRAFANA_TOKEN, or GRAFANA_USER/GRAFANA_PASSWORD; `-- --dry-run`, `-- --force`)."""
    _require(session, *VALIDATES)
    _install(session)
    _cli(session, "build")
    _cli(session, "apply", *session.posargs)


@nox.session
def pull(session: nox.Session) -> None:
    """Dashboards from Grafana into build/pulled/: `-- UID...` or `-- --all`, `--import`."""
    _require(session, *VALIDATES, *FORMATS)
    _install(session)
    _cli(session, "pull", *session.posargs)


@nox.session
def doctor(session: nox.Session) -> None:
    """Which panels would show No data on a live Prometheus, and why: `-- --prometheus URL`
    (PROMETHEUS_TOKEN, or PROMETHEUS_USER/PROMETHEUS_PASSWORD)."""
    _install(session)
    _cli(session, "doctor", *session.posargs)


@nox.session
def preview(session: nox.Session) -> None:
    """build/preview/: an HTML page, a PNG and what it shows (.seen.json) of every dashboard
    with data, and index.html (`-- --serve` serves them live on 127.0.0.1)."""
    _require(session, *VALIDATES, *PREVIEWS)
    _install(session)
    _npm_ci(session)
    _cli(session, "preview", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate docs/dashboards.md from the sources (`-- --check` only compares)."""
    _require(session, *VALIDATES)
    _install(session)
    _cli(session, "docs", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Print build speed/memory and per-dashboard Prometheus query cost (docs/PERFORMANCE.md);
    never asserts times (`-- --sizes 1k 10k`, `-- --runs 3`, `-- --engines go rs`)."""
    _require(session, *VALIDATES, "prometheus")
    _install(session, "fast")  # rjsonnet, so the engine table has all three
    _cli(session, "bench", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the Python, `jsonnetfmt --test` over the Jsonnet, then the validation gate."""
    _require(session, *VALIDATES, *FORMATS)
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    _cli(session, "fmt", "--check", *JSONNET_DIRS)
    _cli(session, "validate")


@nox.session
def fmt(session: nox.Session) -> None:
    """Rewrite Python and Jsonnet sources in their canonical format."""
    _require(session, *FORMATS)
    _install(session, "lint")
    session.run("ruff", "format", ".")
    _cli(session, "fmt", *JSONNET_DIRS)
