"""The dashboards a live Grafana holds, read and written in the version each is stored in, over
whichever API discovery found (`apis.Discovery`): `dashboard.grafana.app` v1 and v2 (Grafana
13), v1beta1 and v2beta1 (Grafana 12), or the legacy `/api` (Grafana 10, 11, early 12).

Reading: as v1 first; when Grafana's `status.conversion` says the dashboard is stored as v2,
or that converting it to v1 failed (tabs and other v2-only layouts), it is read again as v2
and converted here (`convert.to_classic`, with `convert.v2_layout` for what only v2 can say).
Whatever the format, callers compare two classic models: format alone is never a change.

Writing keeps the stored version — a dashboard Grafana holds as v2 is written as v2 (the
build converted by `convert.to_v2`), one held as v1 as v1 — and a new one goes in as v1
unless the build carries a v2 layout and the server speaks v2. Every write over /apis sends
the `metadata.resourceVersion` just read, so a change made meanwhile is refused (409).

What `apply` pushed is recorded in Grafana itself: over /apis the annotation
`ktrdr-dashboards/applied-sha256` holds the hash of the pushed content in classic form (keys
Grafana assigns and `schemaVersion`, which v2 does not have, left out); over the legacy /api
every save carries the version message `ktrdr-dashboards apply sha256:<hash>`."""

from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from grafana_client.client import GrafanaClientError

from ktrdr_dashboards import convert
from ktrdr_dashboards.deploy import apis
from ktrdr_dashboards.deploy.grafana import UID, ForbiddenError, Grafana, GrafanaError, _short
from ktrdr_dashboards.roundtrip import exports

MARKER = "ktrdr-dashboards apply sha256:"
HASH_ANNOTATION = "ktrdr-dashboards/applied-sha256"
_PUSHED = re.compile(re.escape(MARKER) + r"([0-9a-f]{64})")
# Dashboards read at once: enough to hide the round trips, few enough for any Grafana.
READERS = 8
# The classic `schemaVersion` Grafana gives a v2 dashboard in classic form, by major version.
CLASSIC_SCHEMA_VERSION = {12: 41, 13: 42}


def content_hash(model: dict) -> str:
    """sha256 of the dashboard as Grafana keeps it: keys it assigns itself and key order
    do not count."""
    canonical = json.dumps(
        exports.strip_regenerated(model), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def resource_hash(classic: dict) -> str:
    """The hash kept on an /apis resource: the classic form's, `schemaVersion` left out (a
    v2 dashboard has none, and a re-save that only migrates it changes nothing)."""
    return content_hash({k: v for k, v in classic.items() if k != "schemaVersion"})


def pushed_hash(version: dict) -> str | None:
    """The content hash an `apply` save recorded in a legacy version's message, if any."""
    found = _PUSHED.search(version.get("message") or "")
    return found.group(1) if found else None


def aligned(live: dict, built: dict) -> dict:
    """`live` with the build's `schemaVersion`: the format version is not content."""
    model = {k: v for k, v in live.items() if k != "schemaVersion"}
    if "schemaVersion" in built:
        model["schemaVersion"] = built["schemaVersion"]
    return model


@dataclass(frozen=True)
class LiveDashboard:
    """One dashboard as Grafana holds it, in classic form."""

    uid: str
    classic: dict  # a v2 one converted, without schemaVersion
    layout: dict | None  # what only v2 can say (tabs, auto grid, ...), panels as `panel-<id>`
    stored: str  # "legacy", "v1" or "v2"
    version: int  # the legacy version, or the resource's generation
    pushed: str | None  # the hash apply recorded with the content it last pushed
    untouched: bool  # the content is what apply last pushed
    who: str  # the last save, for messages: `version 3, by admin, "message"`
    managed: str | None  # why the API must not replace it (provisioned), else None
    resource: dict | None = None  # the /apis object

    @property
    def label(self) -> str:
        return f"version {self.version}" + (" (schema v2)" if self.stored == "v2" else "")


class Conflict(Exception):
    """Grafana refused a write because the dashboard changed since it was read (409/412)."""


@dataclass(frozen=True)
class Write:
    """One dashboard write, ready to send."""

    uid: str
    target: str  # "legacy", "v1" or "v2"
    resources: apis.Resources | None  # None: the legacy /api
    body: dict  # the resource, or the legacy dashboard model
    recorded: str  # the hash recorded with it as apply's
    permission: str  # what a 403 means is missing
    folder_uid: str
    create: bool = False


def _who(version: object, by: object, message: object) -> str:
    parts = [f"version {version}"]
    if by:
        parts.append(f"by {_short(by)}")
    if message:
        parts.append(f'"{_short(message)}"')
    return ", ".join(parts)


class Live:
    """A connected Grafana and what it speaks."""

    def __init__(self, grafana: Grafana, discovery: apis.Discovery):
        self.grafana = grafana
        self.discovery = discovery
        d = discovery

        def resources(group: str, version: str | None, plural: str) -> apis.Resources | None:
            if version is None:
                return None
            return apis.Resources(grafana, group, version, d.namespace, plural)

        self.v1 = resources(apis.DASHBOARDS, d.dashboard_v1, "dashboards")
        self.v2 = resources(apis.DASHBOARDS, d.dashboard_v2, "dashboards")
        self.folders = resources(apis.FOLDERS, d.folder, "folders")

    def describe(self) -> str:
        """The first line of every live command: what was found where."""
        return f"Grafana {self.discovery.version} at {self.grafana.settings.url}: " + (
            self.discovery.describe()
        )

    # ------------------------------------------------------------ folders

    def has_folder(self, uid: str) -> bool:
        if self.folders is None:
            return self.grafana.folder(uid) is not None
        return self.folders.get(uid, f"read folder {uid}", "folders:read") is not None

    def create_folder(self, uid: str, title: str, dry_run: bool) -> None:
        if self.folders is None:
            if not dry_run:
                self.grafana.create_folder(uid, title)
            return
        body = self.folders.body(uid, {"title": title}, {}, {})
        try:
            self.folders.create(body, f"create folder {title}", "folders:create", dry_run)
        except GrafanaClientError as error:  # 409: someone created it meanwhile
            if not self.has_folder(uid):
                raise GrafanaError(
                    f"Grafana refused to create folder {title}: HTTP 409: {_short(error.response)}",
                    fix="run apply again",
                ) from None
        except ForbiddenError:
            if not dry_run:
                raise

    def folder_uids(self, folder_uid: str) -> list[str]:
        """uids of the dashboards in a folder, sorted."""
        listing = self.v1 or self.v2
        if listing is None:
            return self.grafana.search_folder(folder_uid)
        what = f"list the dashboards of folder {folder_uid}"
        uids = sorted(
            item["metadata"]["name"]
            for item in listing.list(what, "dashboards:read")
            if (item["metadata"].get("annotations") or {}).get(apis.FOLDER_ANNOTATION) == folder_uid
        )
        bad = [uid for uid in uids if not (isinstance(uid, str) and UID.fullmatch(uid))]
        if bad:
            raise self.grafana.shape(f"GET /apis{listing.path()}", f"dashboard uids ({bad[0]!r})")
        return uids

    # ------------------------------------------------------------ reading

    def read(self, uid: str) -> LiveDashboard | None:
        """The dashboard with `uid` in classic form, or None when Grafana has none."""
        if self.v1 is None and self.v2 is None:
            return self._read_legacy(uid)
        return self._read_resource(uid)

    def read_all(self, uids: list[str]) -> dict[str, LiveDashboard | None]:
        """`read` of each uid, a few at a time; in the order given."""
        if len(uids) <= 1:
            return {uid: self.read(uid) for uid in uids}
        with ThreadPoolExecutor(max_workers=min(READERS, len(uids))) as pool:
            return dict(zip(uids, pool.map(self.read, uids), strict=True))

    def _read_legacy(self, uid: str) -> LiveDashboard | None:
        found = self.grafana.dashboard(uid)
        if found is None:
            return None
        model, meta = found
        versions = self.grafana.versions(uid)
        version = model.get("version") if isinstance(model.get("version"), int) else 0
        newest = versions[0] if versions else {}
        newest_is_apply = newest.get("version") == version and pushed_hash(newest) is not None
        last_pushed = next((h for h in map(pushed_hash, versions) if h), None)
        return LiveDashboard(
            uid=uid,
            classic=model,
            layout=None,
            stored="legacy",
            version=version,
            pushed=pushed_hash(newest) if newest_is_apply else last_pushed,
            untouched=newest_is_apply or last_pushed == content_hash(model),
            who=_who(
                newest.get("version", version), newest.get("createdBy"), newest.get("message")
            ),
            managed="provisioned from files on Grafana's host" if meta.get("provisioned") else None,
        )

    def _read_resource(self, uid: str) -> LiveDashboard | None:
        first = self.v1 or self.v2
        assert first is not None
        what = f"read dashboard {uid}"
        resource = first.get(uid, what, "dashboards:read")
        if resource is None:
            return None
        status = apis.conversion(resource)
        stored_v2 = first is self.v2 or bool(status.get("failed"))
        stored_v2 = stored_v2 or str(status.get("storedVersion") or "").startswith("v2")
        if first is not self.v2 and stored_v2:
            if self.v2 is None:
                raise GrafanaError(
                    f"Grafana at {self.grafana.settings.url} cannot give dashboard {uid} as "
                    f"{first.api_version}: {_short(status.get('error') or 'conversion failed')}",
                    fix="save it once more in Grafana's UI, or read it with a Grafana that "
                    "serves dashboard.grafana.app/v2",
                )
            resource = self.v2.get(uid, what, "dashboards:read")
            if resource is None:
                return None
            status = apis.conversion(resource)
        if stored_v2 and status.get("failed"):
            raise GrafanaError(
                f"Grafana at {self.grafana.settings.url} cannot give dashboard {uid} as v1 or "
                f"v2: {_short(status.get('error') or 'conversion failed')}",
                fix="open and save it in Grafana's UI, then run again",
            )
        spec = resource["spec"]
        if stored_v2:
            classic = convert.to_classic(spec, uid)
            layout = convert.v2_layout(spec)
        else:
            if not isinstance(spec.get("panels", []), list):
                raise self.grafana.shape(f"GET /apis{first.path(uid)}", f"dashboard {uid}")
            classic, layout = {**spec, "uid": uid}, None
        metadata = resource["metadata"]
        annotations = metadata.get("annotations") or {}
        pushed = annotations.get(HASH_ANNOTATION)
        generation = metadata.get("generation", 0)
        manager = annotations.get(apis.MANAGED_BY_ANNOTATION)
        return LiveDashboard(
            uid=uid,
            classic=classic,
            layout=layout,
            stored="v2" if stored_v2 else "v1",
            version=generation,
            pushed=pushed if isinstance(pushed, str) else None,
            untouched=pushed == resource_hash(classic),
            who=_who(
                generation,
                annotations.get(apis.UPDATED_BY_ANNOTATION),
                annotations.get(apis.MESSAGE_ANNOTATION),
            ),
            managed=_manager(manager, annotations.get(apis.MANAGER_ID_ANNOTATION)),
            resource=resource,
        )

    # ------------------------------------------------------------ writing

    def target(self, live: LiveDashboard | None, layout: dict | None) -> str:
        """The version a write uses: the stored one, never lower; v2 for a build with a v2
        layout on a server that speaks it; else v1 ("legacy" without /apis)."""
        if self.v1 is None and self.v2 is None:
            return "legacy"
        if self.v2 is not None and (
            (live is not None and live.stored == "v2") or layout is not None or self.v1 is None
        ):
            return "v2"
        return "v1"

    def prepare(
        self,
        model: dict,
        layout: dict | None,
        live: LiveDashboard | None,
        folder: tuple[str, str],
        *,
        record_only: bool = False,
    ) -> Write:
        """The write that puts `model` (with its v2 `layout`) into Grafana over `live`.
        `record_only`: Grafana has this content already; only record it as apply's (over
        /apis the stored spec is kept as it is, with the annotation added)."""
        folder_uid, folder_title = folder
        uid = str(model.get("uid"))
        verb = "create" if live is None else "write"
        permission = f"dashboards:{verb} on the {folder_title} folder"
        target = self.target(live, layout)
        if target == "legacy":
            payload = {k: v for k, v in model.items() if k not in ("id", "version")}
            if live is not None:
                payload["version"] = live.version
            return Write(uid, target, None, payload, content_hash(model), permission, folder_uid)
        if record_only and live is not None and live.resource is not None:
            target = live.stored
            spec, recorded = live.resource["spec"], resource_hash(live.classic)
        elif target == "v2":
            assert self.v2 is not None
            spec = convert.to_v2(model, layout, version=self.v2.version)
            recorded = resource_hash(convert.to_classic(spec, uid))
        else:
            spec = {k: v for k, v in model.items() if k not in ("id", "version")}
            recorded = resource_hash(model)
        resources = self.v2 if target == "v2" else self.v1
        assert resources is not None
        metadata = (live.resource or {}).get("metadata", {}) if live is not None else {}
        annotations = {
            **(metadata.get("annotations") or {}),
            apis.FOLDER_ANNOTATION: folder_uid,
            apis.MESSAGE_ANNOTATION: MARKER + recorded,
            HASH_ANNOTATION: recorded,
        }
        body = resources.body(
            uid, spec, annotations, metadata.get("labels") or {}, metadata.get("resourceVersion")
        )
        return Write(uid, target, resources, body, recorded, permission, folder_uid, live is None)

    def send(self, write: Write, *, force: bool = False, dry_run: bool = False) -> int:
        """Carry out a write; the dashboard's version after it. A dry run has Grafana check
        the write (`dryRun=All`) where the credential may write, and changes nothing. Raises
        Conflict when Grafana says the dashboard changed since it was read."""
        if write.resources is None:
            return self._save_legacy(write, force, dry_run)
        what = f"{'create' if write.create else 'update'} dashboard {write.uid}"
        try:
            if write.create:
                answer = write.resources.create(write.body, what, write.permission, dry_run)
            else:
                answer = write.resources.update(
                    write.uid, write.body, what, write.permission, dry_run
                )
        except GrafanaClientError as error:  # 409
            raise Conflict(f"HTTP 409: {_short(error.response)}") from None
        except ForbiddenError:
            if not dry_run:
                raise
            return 0
        return answer["metadata"].get("generation", 0)

    def _save_legacy(self, write: Write, force: bool, dry_run: bool) -> int:
        if dry_run:
            return 0
        try:
            return self.grafana.save(
                write.body, write.folder_uid, MARKER + write.recorded, force, write.permission
            )
        except GrafanaClientError as error:
            if error.status_code == 412:
                raise Conflict(f"HTTP 412: {_short(error.response)}") from None
            raise GrafanaError(
                f"Grafana refused to save dashboard {write.uid}: HTTP "
                f"{error.status_code}: {_short(error.response)}",
                fix="fix what Grafana names, then run apply again",
            ) from None

    def export(self, live: LiveDashboard) -> dict:
        """The classic model to write for `live` (pull): a v2 one gets the `schemaVersion`
        Grafana's classic form of it has."""
        if "schemaVersion" in live.classic:
            return live.classic
        major = _major(self.discovery.version)
        return {**live.classic, "schemaVersion": CLASSIC_SCHEMA_VERSION.get(major, 42)}


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def _manager(kind: object, identity: object) -> str | None:
    """Why the API must not replace a dashboard another tool manages."""
    if not kind:
        return None
    if kind == "classic-file-provisioning":
        return "provisioned from files on Grafana's host"
    named = f" {_short(identity)}" if identity else ""
    return f"managed by {_short(kind)}{named}"
