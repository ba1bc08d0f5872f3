"""`dvc repro` runs the same stages through the same code, and a second one right after reruns nothing; `dvc plots
show` draws the stages' tables, on a page that opens offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from dvc_render.base import Renderer

from tasks.params import STAGES
from tests.browser import artifact, render, require_chromium
from tests.flow.demo_project import copy_project, demo_params, git_commit_all

pytestmark = pytest.mark.slow


def _sh(cwd: Path, *cmd: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    root = tmp_path_factory.mktemp("dvcrepo")
    copy_project(root)
    demo_params(root, sample=0.05, max_iter=20, latency_rounds=30)  # every stage's work, not the model's quality
    git_commit_all(root)
    # as `make install` does in a clone: the offline template of `dvc plots show`, named in .dvc/config.local
    offline = _sh(root, sys.executable, "-m", "tasks.dvc_plots")
    assert offline.returncode == 0, offline.stderr
    first = _sh(root, "dvc", "repro")
    return root, first


def test_dvc_repro_runs_every_stage_through_glassbox(repo):
    """`dvc repro` on the demo sample runs all stages and writes the same report as the flow."""
    root, first = repo
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for stage in STAGES:
        assert f"glassbox stage {stage}" in first.stdout
    report = json.loads((root / "reports/latest/report.json").read_text())
    assert [s["verdict"] for s in report["stages"]].count("skipped") == 0
    assert report["status"] in ("passed", "warned")
    # one pipeline run: every stage's result carries the same run id
    assert len({s["run_id"] for s in report["stages"]}) == 1


def test_second_repro_reruns_nothing(repo):
    """Right after a full repro, nothing changed, so nothing runs."""
    root, _ = repo
    again = _sh(root, "dvc", "repro")
    assert again.returncode == 0, again.stderr
    assert "glassbox stage" not in again.stdout
    status = _sh(root, "dvc", "status", "--json")
    assert json.loads(status.stdout or "{}") == {}


def _declared(root: Path) -> dict[str, dict]:
    """The plots dvc.yaml declares, by name."""
    return {
        name: spec for plot in yaml.safe_load((root / "dvc.yaml").read_text())["plots"] for name, spec in plot.items()
    }


# Once every plot div DVC wrote holds a drawing (or after 20 s): per div, its id, whether vega-embed drew an svg or
# a canvas in it, the chart title's text and how many non-empty line paths it drew (every DVC template has lines).
DRAWN = """
const divs = () => Array.from(document.querySelectorAll('body > div[id]'));
const report = () => divs().map(d => ({
    id: d.id,
    drawn: d.classList.contains('vega-embed') && d.querySelector('svg, canvas') !== null,
    title: Array.from(d.querySelectorAll('.role-title-text text')).map(t => t.textContent).join(' '),
    lines: Array.from(d.querySelectorAll('.mark-line.role-mark path'))
        .filter(p => (p.getAttribute('d') || '').length > 1).length,
}));
const start = Date.now();
return new Promise(resolve => (function poll() {
    if (divs().every(d => d.querySelector('svg, canvas')) || Date.now() - start > 20000) resolve(report());
    else setTimeout(poll, 100);
})());
"""


def test_plots_show_renders_every_declared_plot_with_data(repo):
    """`dvc plots show --json` fills every plot declared in dvc.yaml with the rows of its table, titled and with
    labelled axes; `dvc plots show` writes them to dvc_plots/index.html, on the offline template that
    `make install` sets up: Vega inline, no script from a CDN."""
    root, _ = repo
    declared = _declared(root)
    shown = _sh(root, "dvc", "plots", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    plots = json.loads(shown.stdout)
    assert "errors" not in plots, plots["errors"]
    assert sorted(plots["data"]) == sorted(declared)
    for name, (rendered,) in plots["data"].items():
        spec = rendered["content"]
        assert rendered["type"] == "vega" and spec["data"]["values"], name
        assert spec["title"]["text"] == declared[name]["title"]
        # the axis titles sit in the template's encoding, nested in layers by some templates
        axes = json.dumps(spec)
        assert json.dumps(declared[name]["x_label"]) in axes and json.dumps(declared[name]["y_label"]) in axes, name
    html = _sh(root, "dvc", "plots", "show")
    assert html.returncode == 0, html.stderr
    page = (root / "dvc_plots" / "index.html").read_text()
    assert all(spec["content"]["title"]["text"] in page for (spec,) in plots["data"].values())
    assert "window.vegaEmbed" in page and "cdn.jsdelivr.net" not in page and "<script src" not in page


def test_plots_page_draws_every_declared_plot_offline(repo):
    """The page `dvc plots show` writes, opened in headless chromium: no console error, no request beyond the page
    itself (it draws offline), and every plot declared in dvc.yaml drawn with its title and its lines."""
    require_chromium()
    root, _ = repo
    declared = _declared(root)
    html = _sh(root, "dvc", "plots", "show")
    assert html.returncode == 0, html.stderr
    shown = render(root / "dvc_plots" / "index.html", artifact("dvc_plots/index.png"), query=DRAWN)
    assert shown.console_errors == ()
    assert shown.requests == ()
    assert shown.broken_images == ()
    assert shown.title == "glassbox: dvc plots"
    drawn = {div["id"]: div for div in shown.answer}
    assert sorted(drawn) == sorted(Renderer.remove_special_chars(name) for name in declared)
    for name, spec in declared.items():
        div = drawn[Renderer.remove_special_chars(name)]
        assert div["drawn"] and div["lines"] >= 1, div
        assert div["title"] == spec["title"], div


def test_metrics_and_params_diff_work(repo):
    """`dvc metrics show` reads what the stages wrote; `dvc params diff` sees a changed threshold."""
    root, _ = repo
    shown = _sh(root, "dvc", "metrics", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    assert "train_val_gap" in shown.stdout and "rows_served" in shown.stdout
    params = (root / "params.yaml").read_text().replace("validation_fraction: 0.2", "validation_fraction: 0.25")
    (root / "params.yaml").write_text(params)
    diff = _sh(root, "dvc", "params", "diff", "--json")
    assert diff.returncode == 0, diff.stderr
    assert "training.validation_fraction" in diff.stdout
