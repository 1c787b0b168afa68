"""Sessions over the ktrdr_dashboards package; the logic lives in the package, not here."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["build", "test"]

JSONNET_DIRS = ("jsonnet", "lib", "mixin.libsonnet")


def _install(session: nox.Session, *extras: str) -> None:
    target = f".[{','.join(extras)}]" if extras else "."
    session.install("-e", target)


def _npm_ci(session: nox.Session) -> None:
    """The previews' pinned packages (@grafana/data, uPlot, esbuild; preview/package-lock.json)
    into preview/node_modules, which is git-ignored; nothing is fetched when a page is viewed."""
    session.run("npm", "ci", "--prefix", "preview", "--ignore-scripts", "--no-audit", "--no-fund",
                external=True)  # fmt: skip


@nox.session
def build(session: nox.Session) -> None:
    """Compile, validate and write build/ (pass `-- --jpath DIR` to use another g.libsonnet)."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "build", *session.posargs)


@nox.session
def release(session: nox.Session) -> None:
    """Build, validate and write build/dist/ktrdr-dashboards-<version>.tar.gz + .sha256
    (`-- --allow-dirty` releases uncommitted changes as <version>+dirty)."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "release", *session.posargs)


@nox.session(name="import")
def import_(session: nox.Session) -> None:
    """Write jsonnet/NAME.jsonnet from a Grafana export: `-- FILE [NAME] [--force]`."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "import", *session.posargs)


@nox.session
def diff(session: nox.Session) -> None:
    """Semantic diff: `-- EXPORT` against the build of its uid, or `-- A B`; `-- --live` against
    what Grafana serves (GRAFANA_URL, GRAFANA_TOKEN)."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "diff", *session.posargs, env=_grafana_env())


# A live Grafana's address and login reach the CLI from the environment only.
GRAFANA_ENV = (
    "GRAFANA_URL",
    "GRAFANA_TOKEN",
    "GRAFANA_USER",
    "GRAFANA_PASSWORD",
    "GRAFANA_TIMEOUT",
)


def _grafana_env() -> dict[str, str]:
    return {name: os.environ[name] for name in GRAFANA_ENV if name in os.environ}


@nox.session
def apply(session: nox.Session) -> None:
    """Build, then push build/dashboards/ into Grafana's KTRDR folder (GRAFANA_URL and
    GRAFANA_TOKEN, or GRAFANA_USER/GRAFANA_PASSWORD; `-- --dry-run`, `-- --force`)."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "build")
    session.run("python", "-m", "ktrdr_dashboards", "apply", *session.posargs, env=_grafana_env())


@nox.session
def pull(session: nox.Session) -> None:
    """Dashboards from Grafana into build/pulled/: `-- UID...` or `-- --all`, `--import`."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "pull", *session.posargs, env=_grafana_env())


@nox.session
def test(session: nox.Session) -> None:
    """The test suite: library, dashboards, validation, query truth, releases, previews."""
    _install(session, "test")
    _npm_ci(session)  # the browser tests render previews
    session.run("pytest", *session.posargs)


@nox.session
def preview(session: nox.Session) -> None:
    """build/preview/: an HTML page, a PNG and what it shows (.seen.json) of every dashboard
    with data, and index.html (`-- --serve` serves them live on 127.0.0.1)."""
    _install(session)
    _npm_ci(session)
    session.run("python", "-m", "ktrdr_dashboards", "preview", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Regenerate docs/dashboards.md from the sources (`-- --check` only compares)."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "docs", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the Python, `jsonnetfmt --test` over the Jsonnet."""
    _install(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("python", "-m", "ktrdr_dashboards", "fmt", "--check", *JSONNET_DIRS)
    session.run("python", "-m", "ktrdr_dashboards", "validate")


@nox.session
def validate(session: nox.Session) -> None:
    """The validation gate without writing anything (`-- --grafana-schema PATH`,
    `-- --format json`, `-- --exclusions FILE`)."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "validate", *session.posargs)


@nox.session
def doctor(session: nox.Session) -> None:
    """Which panels would show No data on a live Prometheus, and why: -- --prometheus URL."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "doctor", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Print build speed/memory and per-dashboard Prometheus query cost (docs/PERFORMANCE.md);
    never asserts times (`-- --sizes 1k 10k`, `-- --runs 3`)."""
    _install(session)
    session.run("python", "-m", "ktrdr_dashboards", "bench", *session.posargs)


@nox.session
def fmt(session: nox.Session) -> None:
    """Rewrite Python and Jsonnet sources in their canonical format."""
    _install(session, "lint")
    session.run("ruff", "format", ".")
    session.run("python", "-m", "ktrdr_dashboards", "fmt", *JSONNET_DIRS)
