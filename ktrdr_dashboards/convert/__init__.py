"""Conversion between Grafana's two dashboard models: the classic JSON model (`schemaVersion`
36 to 42) and schema v2 (`elements` + `layout`, `dashboard.grafana.app/v2` and `v2beta1`).

Written from the published v2 JSON Schemas shipped in `data/schemas/` (Grafana Foundation SDK,
Apache-2.0) and Grafana's public documentation; where they are silent the conventions are
docs/grafana-versions.md's. `to_v2` and `to_classic` are pure functions of their input;
`v2_layout` keeps what only v2 can say (tabs, auto grid, ...) beside the classic model, as the
hidden `v2Layout` field of a source does. `schema_errors` checks a v2 spec against the shipped
schema. Core: imports only `errors`."""

from ktrdr_dashboards.convert.classic_to_v2 import to_v2
from ktrdr_dashboards.convert.common import ConversionError
from ktrdr_dashboards.convert.schemas import schema_errors
from ktrdr_dashboards.convert.v2_to_classic import to_classic, v2_layout, v2_only

__all__ = ["ConversionError", "schema_errors", "to_classic", "to_v2", "v2_layout", "v2_only"]
