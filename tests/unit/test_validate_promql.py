"""PromQL as Grafana sends it: variable and macro expansion, promtool as the parser, the
README's examples, and a missing promtool as a clear failure."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ktrdr_dashboards.errors import ToolMissingError
from ktrdr_dashboards.promql import analysis
from ktrdr_dashboards.promql import expand as promql

REPO_ROOT = Path(__file__).resolve().parents[2]
JOB = promql.Variable("job", ("ktrdr-backend", "ktrdr-workers"), multi_or_all=True)


def test_rate_interval_is_four_scrapes_for_the_last_hour():
    # 1 h over ~1000 points rounds to 2 s, below the 15 s scrape floor: $__interval is 15s,
    # $__rate_interval max(15 + 15, 4 * 15) = 60 s.
    context = promql.QueryContext()
    assert context.macros()["__interval"] == "15s"
    assert context.macros()["__rate_interval"] == "60s"
    assert context.macros()["__range"] == "3600s"


def test_rate_interval_follows_a_longer_range():
    # 7 days over 1000 points: 604.8 s rounds to 10m; $__rate_interval adds one scrape.
    context = promql.QueryContext(range_seconds=7 * 86400)
    assert context.macros()["__interval"] == "10m"
    assert context.macros()["__rate_interval"] == "615s"


def test_expansion_covers_every_variable_syntax():
    expr = 'sum(rate(x{job=~"$job", a="${job}", b=~"${job:regex}", c="[[job]]"}[$__rate_interval]))'
    expanded = promql.expand(expr, {"job": JOB})
    assert expanded == (
        'sum(rate(x{job=~"(ktrdr-backend|ktrdr-workers)", a="(ktrdr-backend|ktrdr-workers)",'
        ' b=~"(ktrdr-backend|ktrdr-workers)", c="(ktrdr-backend|ktrdr-workers)"}[60s]))'
    )


def test_multi_value_variables_are_regex_escaped_as_grafana_does():
    dotted = promql.Variable("instance", ("backend:8000", "w.1:5003"), multi_or_all=True)
    assert promql.expand('up{instance=~"$instance"}', {"instance": dotted}) == (
        'up{instance=~"(backend:8000|w\\\\.1:5003)"}'
    )


def test_all_without_known_options_expands_to_match_anything():
    model = {
        "templating": {
            "list": [
                {"name": "job", "type": "query", "multi": True, "includeAll": True,
                 "current": {"value": "$__all"}}
            ]
        }
    }  # fmt: skip
    assert promql.expand('up{job=~"$job"}', promql.variables_of(model)) == 'up{job=~".*"}'


def test_unknown_variables_stay_as_written():
    assert promql.expand('up{job=~"$nope"}', {}) == 'up{job=~"$nope"}'


@pytest.mark.integration  # runs promtool
def test_promtool_maps_each_error_to_its_expression():
    result = promql.check_with_promtool(
        ["sum(rate(up[1m]))", "histogram_quantile(0.95, rate(x_bucket[5m]) by (le))", "up{"]
    )
    assert sorted(result.errors) == [1, 2]
    assert "unexpected <by>" in result.errors[1]


def test_analysis_names_windows_as_written():
    found = analysis.analyze(
        "increase(a[1h]) + rate(b[$__rate_interval]) + rate(c[$__range]) + d", {"job": JOB}
    )
    assert [(s.metric, s.function, s.window) for s in found.selectors] == [
        ("a", "increase", "1h"),
        ("b", "rate", "$__rate_interval"),
        ("c", "rate", "$__range"),
        ("d", None, None),
    ]


def test_markdown_examples_are_split_at_comments_and_blank_lines():
    text = (
        "intro\n```promql\n# a\nup\n# b\nsum(\n  up\n)\n\nrate(x[5m])\n```\n```yaml\nno: 1\n```\n"
    )
    assert promql.markdown_examples(text) == [(4, "up"), (6, "sum(\n  up\n)"), (10, "rate(x[5m])")]


@pytest.mark.integration  # runs promtool
def test_readme_promql_examples_parse_with_promtool():
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    examples = promql.markdown_examples(readme)
    assert examples, "README.md has no ```promql examples"
    result = promql.check_with_promtool([promql.expand(expr, {"job": JOB}) for _, expr in examples])
    bad = [f"README.md:{examples[i][0]}: {message}" for i, message in result.errors.items()]
    assert bad == []


def test_missing_promtool_is_a_clear_failure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no promtool on PATH
    with pytest.raises(
        ToolMissingError, match="apt-get install -y --no-install-recommends prometheus"
    ):
        promql.check_with_promtool(["up"])


@pytest.mark.integration  # runs the CLI in a subprocess
def test_missing_promtool_fails_the_validate_command(tmp_path: Path):
    import subprocess
    import sys

    env = {**os.environ, "PATH": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "ktrdr_dashboards", "validate"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        check=False,
    )
    assert run.returncode == 1
    assert "`promtool` is not installed" in run.stderr
    assert "apt-get install -y --no-install-recommends prometheus" in run.stderr
