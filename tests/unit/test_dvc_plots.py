"""The offline template of `dvc plots show` (tasks/dvc_plots.py): Vega inline and no CDN tag, written once and
then left alone, named in the clone's own `.dvc/config.local`, never committed, and used by DVC."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks import dvc_plots
from tests.conftest import REPO

SCRIPT_SRC = re.compile(r"<script\b[^>]*\bsrc\s*=", re.IGNORECASE)


def _dvc_repo(root: Path) -> Path:
    """A DVC repository as a fresh clone has it: git, and the committed .dvc/config (no config.local)."""
    (root / ".dvc").mkdir(parents=True)
    shutil.copy(REPO / ".dvc" / "config", root / ".dvc" / "config")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _local_template(root: Path) -> str | None:
    """plots.html_template as .dvc/config.local has it, or None."""
    local = configparser.ConfigParser()
    local.read(root / ".dvc" / "config.local")
    return local.get("plots", "html_template", fallback=None)


def _dvc(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=root, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dvc_plots.OfflineTemplate]:
    """A DVC repository where `install` ran once, with the real bundle."""
    root = _dvc_repo(tmp_path_factory.mktemp("offline") / "repo")
    return root, dvc_plots.install(root)


def test_page_keeps_dvc_plot_divs_and_no_scripts_placeholder():
    """The page has DVC's `{plot_divs}` and no `{scripts}` (so DVC adds no CDN tag), no script with a src, and the
    bundle inline, with a `</script` inside it escaped so it cannot end the element early."""
    bundle = 'window.vegaEmbed = () => "</script><!-- x";'
    text = dvc_plots.page(bundle, "gen", "Vega x")
    assert "{plot_divs}" in text and "{scripts}" not in text
    assert not SCRIPT_SRC.search(text)
    assert text.count("</script>") == 1
    assert r'"<\/script><\!-- x"' in text
    assert dvc_plots.generator_of(text) == "gen"


def test_page_refuses_a_bundle_that_holds_a_dvc_placeholder():
    """DVC replaces `{scripts}` by plain text wherever it stands: a bundle holding it is refused, not mangled."""
    with pytest.raises(ValueError, match="scripts"):
        dvc_plots.page("var s = '{scripts}';", "gen", "Vega x")


def test_install_writes_the_real_bundle_inline_with_no_remote_script(installed):
    """With vl-convert's real bundle: the template publishes vegaEmbed, links no script (so no http(s) one) and
    carries the stamp of this vl-convert and Vega-Lite version; DVC's placeholders stay as DVC wants them."""
    root, done = installed
    text = done.path.read_text(encoding="utf8")
    assert done.path == root / ".dvc" / "plots" / "offline.html"
    assert done.written and done.configured
    assert "{plot_divs}" in text and "{scripts}" not in text
    assert not SCRIPT_SRC.search(text)
    assert "window.vegaEmbed" in text and f"vega-lite {dvc_plots.VL_VERSION}" in done.stamp
    assert dvc_plots.stamp_of(done.path) == done.stamp == dvc_plots.stamp()


def test_install_names_the_template_in_the_local_config_only(installed):
    """The template is named in .dvc/config.local, relative to .dvc/ as DVC resolves it; the committed
    .dvc/config is left as it was."""
    root, _ = installed
    assert _local_template(root) == "plots/offline.html"
    assert (root / ".dvc" / "config").read_text() == (REPO / ".dvc" / "config").read_text()


def test_second_install_changes_nothing_and_builds_no_bundle(installed, monkeypatch):
    """Run again, `install` finds its stamp and its config: it builds no bundle and touches neither file."""
    root, first = installed
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in (first.path, root / ".dvc" / "config.local")}

    def no_bundle(vl_version: str) -> tuple[str, str]:
        raise AssertionError("the bundle was built again")

    monkeypatch.setattr(dvc_plots, "_bundle", no_bundle)
    again = dvc_plots.install(root)
    assert (again.written, again.configured) == (False, False)
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in before} == before


def test_stale_or_missing_template_is_written_again(installed, tmp_path, monkeypatch):
    """A template of another bundle version is rewritten; one deleted while config.local still names it (which
    DVC cannot open) comes back. Neither touches a config that already names it."""
    root = _dvc_repo(tmp_path / "repo")
    path = root / ".dvc" / "plots" / "offline.html"
    path.parent.mkdir()
    path.write_text('<meta name="generator" content="glassbox tasks.dvc_plots; vl-convert-python 0.1">{plot_divs}')
    monkeypatch.setattr(dvc_plots, "_bundle", lambda vl_version: ("window.vegaEmbed = 1;", "Vega test"))
    stale = dvc_plots.install(root)
    assert stale.written and dvc_plots.stamp_of(path) == dvc_plots.stamp()
    path.unlink()
    missing = dvc_plots.install(root)
    assert (missing.written, missing.configured) == (True, False)
    assert "window.vegaEmbed = 1;" in path.read_text()


def test_dvc_plots_show_fills_the_template_and_needs_it(installed, tmp_path, monkeypatch):
    """`dvc plots show` fills the offline template: no CDN tag in the page, Vega inline. DVC reads a missing
    template's path as the template text and stops, which is why only the clone's config.local names it (a
    fresh clone keeps DVC's default) and `install` writes it back."""
    root = _dvc_repo(tmp_path / "repo")
    (root / "tiny.csv").write_text("x,y\n1,2\n2,3\n3,5\n")
    (root / "dvc.yaml").write_text("plots:\n  - tiny.csv:\n      x: x\n      y: y\n      title: tiny plot\n")
    fresh = _dvc(root, "plots", "show")
    assert fresh.returncode == 0, fresh.stderr
    assert "cdn.jsdelivr.net" in (root / "dvc_plots" / "index.html").read_text()  # DVC's default, online
    template = root / ".dvc" / "plots" / "offline.html"
    template.parent.mkdir()
    shutil.copy(installed[1].path, template)
    dvc_plots.install(root)
    shown = _dvc(root, "plots", "show")
    assert shown.returncode == 0, shown.stderr
    page = (root / "dvc_plots" / "index.html").read_text()
    assert not SCRIPT_SRC.search(page) and "cdn.jsdelivr.net" not in page
    assert "window.vegaEmbed" in page and 'id = "tiny_csv"' in page
    template.unlink()
    broken = _dvc(root, "plots", "show")
    assert broken.returncode != 0 and "{plot_divs}" in broken.stderr + broken.stdout
    monkeypatch.setattr(dvc_plots, "_bundle", lambda vl_version: ("window.vegaEmbed = 1;", "Vega test"))
    assert dvc_plots.install(root).written
    assert _dvc(root, "plots", "show").returncode == 0


def test_generated_files_are_git_ignored_and_not_committed_config():
    """The template and the config.local naming it are ignored by git (never committed); the committed
    .dvc/config names no template, so a fresh clone's `dvc plots show` never points at a file it lacks."""
    ignored = subprocess.run(
        ["git", "check-ignore", ".dvc/plots/offline.html", ".dvc/plots/offline.html.tmp", ".dvc/config.local"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ignored.stdout.split() == [".dvc/plots/offline.html", ".dvc/plots/offline.html.tmp", ".dvc/config.local"]
    assert "html_template" not in (REPO / ".dvc" / "config").read_text()


def test_install_refuses_a_folder_that_is_no_dvc_repository(tmp_path):
    """No .dvc folder: nothing is written and the error says where it looked."""
    with pytest.raises(FileNotFoundError, match=r"\.dvc is missing"):
        dvc_plots.install(tmp_path)
    assert list(tmp_path.iterdir()) == []
