"""`release` and `verify`: build + validate, package as a reproducible versioned tarball in
build/dist/, and check a tarball (checksum, manifest, safe members, valid dashboards)."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards import tools
from ktrdr_dashboards import validate as validator
from ktrdr_dashboards.alerting import rules
from ktrdr_dashboards.compile.dashboards import CompiledDashboard
from ktrdr_dashboards.compile.provisioning import KINDS, ProvisioningFile
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.release import archive, package, signing
from ktrdr_dashboards.validate import gate as lint

DIRTY_SUFFIX = "+dirty"
_SHA256_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")


class VerificationError(DashboardError):
    """A tarball failed verification; `problems` holds one error per problem found."""

    def __init__(self, tarball: Path, problems: list[DashboardError]):
        super().__init__(
            f"failed verification with {len(problems)} problem(s)",
            location=Location(file=str(tarball)),
            fix="nothing was installed",
        )
        self.problems = problems


# ---------------------------------------------------------------- source state


@dataclass(frozen=True)
class SourceState:
    commit: str  # "unknown" when not a git checkout or no commit yet
    commit_time: int | None
    dirty: bool  # uncommitted changes, or cannot tell (no commit)
    notes: tuple[str, ...] = ()  # what the user should know, e.g. "not a git checkout"


def _git(root: Path, *args: str) -> tuple[int, str]:
    result = tools.run("git", ["-C", str(root), *args])
    return result.returncode, (result.stdout if result.returncode == 0 else result.stderr).strip()


def source_state(root: Path) -> SourceState:
    """Commit, commit time and cleanliness of the tree at `root` (build/ is ignored: it is
    the output, not a source)."""
    status, inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if status != 0 or inside != "true":
        return SourceState("unknown", None, True, (f"{root} is not a git checkout",))
    status, commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if status != 0:
        return SourceState("unknown", None, True, ("the git repository has no commit yet",))
    _, commit_time = _git(root, "log", "-1", "--format=%ct", "HEAD")
    status, changes = _git(
        root, "status", "--porcelain", "--untracked-files=normal", "--", ".", ":(exclude)build"
    )
    if status != 0:
        raise DashboardError(f"git status failed: {changes}", location=Location(file=str(root)))
    return SourceState(commit, int(commit_time), bool(changes))


# ---------------------------------------------------------------- version, time, changelog


def project_version(pyproject: Path) -> str:
    """`[project] version` of pyproject.toml: the one place the version is written."""
    try:
        version = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as error:
        raise DashboardError(
            f"cannot read [project] version ({error})",
            location=Location(file=str(pyproject)),
            fix="set version under [project]",
        ) from None
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*([a-z0-9.]*)", str(version)):
        raise DashboardError(
            f"version {version!r} is not a plain release version",
            location=Location(file=str(pyproject)),
            fix='use e.g. version = "1.2.0"; local suffixes are added by `release`',
        )
    return str(version)


def release_version(base: str, source: SourceState, allow_dirty: bool) -> str:
    if not source.dirty:
        return base
    if not allow_dirty:
        reason = "; ".join(source.notes) or "the tree has uncommitted changes"
        raise DashboardError(
            f"refusing to release {base} from a tree that is not one clean commit ({reason})",
            fix="commit your changes, or pass --allow-dirty for a `+dirty` build",
        )
    return f"{base}{DIRTY_SUFFIX}"


def build_time(env: Mapping[str, str], source: SourceState) -> tuple[int, str]:
    """SOURCE_DATE_EPOCH when set, else the commit time, else the epoch: never the clock,
    so the same sources give the same bytes."""
    raw = env.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        if not raw.isdigit():
            raise DashboardError(
                f"SOURCE_DATE_EPOCH={raw!r} is not a whole number of seconds",
                fix="unset it or set e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)",
            )
        return int(raw), "SOURCE_DATE_EPOCH"
    if source.commit_time is not None:
        return source.commit_time, "commit"
    return 0, "none"


def changelog_entry(changelog: Path, version: str) -> str:
    """The `## [version]` section of a Keep a Changelog file, heading included."""
    try:
        text = changelog.read_text(encoding="utf-8")
    except OSError:
        text = ""
    heading = re.compile(rf"^## \[{re.escape(version)}\]", re.MULTILINE)
    start = heading.search(text)
    if not start:
        raise DashboardError(
            f"no entry for version {version}",
            location=Location(file=str(changelog)),
            fix=f"add a `## [{version}] - YYYY-MM-DD` section describing the release",
        )
    following = re.compile(r"^## |^\[[^\]]+\]: ", re.MULTILINE).search(text, start.end())
    body = text[start.start() : following.start() if following else len(text)]
    return body.rstrip() + "\n"


# ---------------------------------------------------------------- validation


def validation_basis(project: build_module.Project, config: Mapping) -> dict:
    """What the validator judged this release by, beyond the files themselves: the KTRDR
    conventions from lib/ktrdr/config.libsonnet and the justified exclusions. Recorded in
    MANIFEST.json so `verify` re-runs the same gate on a tarball without the sources."""
    settings = lint.settings_from_config(config)
    exclusions, _ = lint.load_exclusions(project.root / lint.EXCLUSIONS_NAME, lint.EXCLUSIONS_NAME)
    return {
        "settings": dataclasses.asdict(settings),
        "exclusions": [dataclasses.asdict(e) for e in exclusions],
    }


def _settings(recorded: Mapping) -> validator.Settings:
    known = {f.name for f in dataclasses.fields(validator.Settings)}
    return validator.Settings(
        **{
            name: tuple(value) if isinstance(value, list) else value
            for name, value in recorded.items()
            if name in known
        }
    )


def validator_problems(
    label: str, manifest: Mapping, dashboards: Mapping[str, dict], files: Mapping[str, bytes]
) -> list[DashboardError]:
    """The validation gate over the dashboards, provisioning files and Kubernetes resources
    inside a tarball, with the settings and exclusions the release recorded."""
    basis = manifest.get("validation") or {}
    compiled = [
        CompiledDashboard(PurePosixPath(path).stem, Path(f"{label}: {path}"), model)
        for path, model in sorted(dashboards.items())
    ]
    provisioning_files = []
    for kind in KINDS:
        folder = f"{package.GRAFANA_PROVISIONING_DIR}/{kind}"
        for path, data in sorted(files.items()):
            if PurePosixPath(path).parent.as_posix() == folder:
                text = data.decode("utf-8", errors="replace")
                loaded = yaml.safe_load(text) if path.endswith((".yaml", ".yml")) else None
                parsed = loaded if isinstance(loaded, dict) else {}
                shown = Path(f"{label}: {path}")
                provisioning_files.append(ProvisioningFile(kind, shown, text, parsed))
    kubernetes_files = {
        f"{label}: {path}": data.decode("utf-8", errors="replace")
        for path, data in sorted(files.items())
        if path.startswith(package.KUBERNETES_DIR + "/")
    }
    output = build_module.BuildOutput(dashboards=compiled, provisioning=provisioning_files)
    # The dashboards read the series the release's own recording rules write.
    rule_files = {
        path: data.decode("utf-8", errors="replace")
        for path, data in sorted(files.items())
        if path.startswith(f"{package.PROMETHEUS_DIR}/") and path.endswith((".yml", ".yaml"))
    }
    catalog = lint.load_catalog().with_recorded(rules.recorded_series(rule_files))
    findings = validator.validate(
        output,
        settings=_settings(basis.get("settings") or {}),
        catalog=catalog,
        kubernetes_files=kubernetes_files,
    )
    exclusions = [lint.Exclusion(**entry) for entry in basis.get("exclusions") or []]
    if exclusions:
        findings = lint.apply_exclusions(findings, exclusions, f"{label}: MANIFEST.json")
    return [
        DashboardError(f"{f.rule}: {f.message}", location=f.location, fix=f.fix) for f in findings
    ]


# ---------------------------------------------------------------- release


@dataclass
class ReleaseResult:
    version: str
    tarball: Path
    checksum: Path
    outcome: str  # "written" or "unchanged"
    info: package.ReleaseInfo
    notes: list[str] = field(default_factory=list)
    signature: Path | None = None


def release(
    project: build_module.Project,
    build_dir: Path,
    *,
    allow_dirty: bool = False,
    env: Mapping[str, str] | None = None,
    sign_key: Path | None = None,
) -> ReleaseResult:
    """Build and validate exactly as `build` does, then publish build/dist/<name>.tar.gz and
    its .sha256, and its .sig when `sign_key` is given. Refuses a dirty tree (unless allowed)
    and a changed re-release."""
    env = os.environ if env is None else env
    source = source_state(project.root)
    base_version = project_version(project.root / "pyproject.toml")
    version = release_version(base_version, source, allow_dirty)
    entry = changelog_entry(project.root / "CHANGELOG.md", base_version)
    mtime, mtime_source = build_time(env, source)
    # build.build() is the same compile + validation the `build` command runs; release packages
    # what it returns, never older files that may lie in build/.
    output = build_module.build(project, build_dir)
    info = package.ReleaseInfo(version, source.commit, source.dirty, mtime, mtime_source)
    build_files = dict(output.files)
    members = package.release_members(
        info, build_files, entry, validation_basis(project, output.config)
    )
    data = package.write_tarball(package.top_folder(version), members, mtime)
    name = package.tarball_name(version)
    problems = check_contents(archive.read_tarball(data, name))
    if problems:
        raise problems[0]
    # Signed before anything is published: a key that cannot sign leaves build/dist/ as it was.
    signature = signing.sign(data, sign_key) if sign_key is not None else None
    dist = build_dir / "dist"
    outcome = package.publish(dist, name, data, signature)
    notes = list(source.notes)
    if mtime_source == "none":
        notes.append("no commit time and no SOURCE_DATE_EPOCH: members are dated 1970-01-01")
    signature_file = signing.signature_path(dist / name) if signature is not None else None
    return ReleaseResult(
        version, dist / name, dist / f"{name}.sha256", outcome, info, notes, signature_file
    )


# ---------------------------------------------------------------- verify


def check_checksum_file(tarball: Path, data: bytes) -> list[DashboardError]:
    """The tarball against its `<tarball>.sha256` (sha256sum format)."""
    checksum_file = tarball.with_name(f"{tarball.name}.sha256")
    where = Location(file=str(checksum_file))
    if not checksum_file.is_file():
        return [DashboardError("checksum file is missing", location=where, fix="fetch it too")]
    try:
        text = read_bounded(checksum_file, 4096).decode("utf-8", errors="replace")
    except DashboardError as error:
        return [error]
    lines = text.splitlines()
    match = _SHA256_LINE.match(lines[0]) if len(lines) == 1 else None
    if not match:
        return [DashboardError("not one `<sha256>  <file>` line", location=where)]
    if match["name"] != tarball.name:
        return [DashboardError(f"names {match['name']!r}, not {tarball.name!r}", location=where)]
    if match["digest"].lower() != package.sha256_hex(data):
        return [
            DashboardError(
                "sha256 of the tarball does not match: it was changed or corrupted",
                location=where,
            )
        ]
    return []


def _manifest_problems(
    label: str, contents: archive.TarballContents
) -> tuple[dict, list[DashboardError]]:
    """Every file the manifest lists against its sha256 (reading the tarball already checked
    that each is present, listed and of the listed size)."""
    manifest = contents.manifest or {}
    problems: list[DashboardError] = []
    for entry in manifest.get("files", []):
        path = entry["path"]
        if path in contents.files and entry.get("sha256") != package.sha256_hex(
            contents.files[path]
        ):
            problems.append(
                DashboardError(
                    "sha256 does not match MANIFEST.json",
                    location=Location(file=f"{label}: {path}"),
                )
            )
    return manifest, problems


def check_dashboard(label: str, path: str, content: bytes) -> list[DashboardError]:
    """What a dashboard file must be for Grafana to load it: a JSON object with a uid, a
    title and a list of panels."""
    where = Location(file=f"{label}: {path}")
    try:
        model = json.loads(content)
    except ValueError as error:
        return [DashboardError(f"not valid JSON ({error})", location=where)]
    if not isinstance(model, dict):
        return [DashboardError("not a dashboard object", location=where)]
    where = Location(file=where.file, dashboard=str(model.get("uid") or "") or None)
    problems = [
        DashboardError(f"has no {key}", location=where)
        for key in ("uid", "title")
        if not isinstance(model.get(key), str) or not model[key]
    ]
    if not isinstance(model.get("panels"), list):
        problems.append(DashboardError("has no panels list", location=where))
    return problems


def check_contents(
    contents: archive.TarballContents, label: str | None = None
) -> list[DashboardError]:
    """Everything verify checks inside a tarball: safe members, the manifest's checksums, the
    top folder naming the manifest's version, and every dashboard where the provider reads."""
    label = label or contents.top or "tarball"
    problems = list(contents.problems)
    if not contents.files:
        return problems
    manifest, manifest_problems = _manifest_problems(label, contents)
    problems += manifest_problems
    version = manifest.get("version")
    if version and contents.top and contents.top != package.top_folder(str(version)):
        problems.append(
            DashboardError(
                f"top folder {contents.top!r} does not name version {version}",
                location=Location(file=label),
            )
        )
    provider_files = {
        path: data
        for path, data in contents.files.items()
        if PurePosixPath(path).parent.as_posix() == f"{package.GRAFANA_PROVISIONING_DIR}/dashboards"
    }
    try:
        dashboards_dir = package.dashboards_provider(provider_files).path
    except DashboardError as error:
        return [*problems, error]
    dashboards = {
        path: data
        for path, data in sorted(contents.files.items())
        if PurePosixPath(path).parent.as_posix() == dashboards_dir and path.endswith(".json")
    }
    if not dashboards:
        problems.append(
            DashboardError(f"no dashboards in {dashboards_dir}/", location=Location(file=label))
        )
    models: dict[str, dict] = {}
    for path, data in dashboards.items():
        found = check_dashboard(label, path, data)
        problems += found
        if not found:
            models[path] = json.loads(data)
    if problems or not models:
        return problems
    # The full gate only on files that are intact and load: its findings would repeat the above.
    return validator_problems(label, manifest, models, contents.files)


@dataclass
class Verified:
    tarball: Path
    manifest: dict
    files: dict[str, bytes]  # relative to the top folder
    signer: str | None = None  # the principal whose signature was checked, if one was

    def installable(self) -> dict[str, bytes]:
        """Files that go into Grafana's paths (not the release's own description)."""
        return {p: d for p, d in self.files.items() if p not in package.METADATA_NAMES}


def read_bounded(path: Path, limit: int) -> bytes:
    """The bytes of a downloaded file, refused unread when it is larger than `limit`."""
    try:
        with path.open("rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > limit:
                raise DashboardError(
                    f"refused: {size:,} bytes, over the {limit:,}-byte limit for a release tarball",
                    location=Location(file=str(path)),
                    fix="this is not a release of this project",
                )
            return handle.read(limit + 1)
    except OSError as error:
        raise DashboardError(
            f"cannot read ({error.strerror})", location=Location(file=str(path))
        ) from None


def verify(tarball: Path, allowed_signers: Path | None = None) -> Verified:
    """Check a release tarball; raises VerificationError listing every problem. With
    `allowed_signers`, a tarball without a good signature from a key trusted there is refused
    before its content is even decompressed."""
    data = read_bounded(tarball, archive.MAX_TARBALL_BYTES)
    problems = check_checksum_file(tarball, data)
    signer = None
    if allowed_signers is not None:
        signer, bad_signature = signing.check(tarball, data, allowed_signers)
        if bad_signature is not None:
            raise VerificationError(tarball, [*problems, bad_signature])
    contents = archive.read_tarball(data, tarball.name)
    problems += check_contents(contents, tarball.name)
    if problems:
        raise VerificationError(tarball, problems)
    manifest = json.loads(contents.files[package.MANIFEST_NAME])
    return Verified(tarball, manifest, contents.files, signer)
