"""`dvc plots show` offline: DVC's page with Vega, Vega-Lite and Vega-Embed inline instead of from a CDN.

DVC fills the HTML template that the config key `plots.html_template` names (a path relative to `.dvc/`), and puts
its `<script src="https://cdn.jsdelivr.net/...">` tags only where that template has `{scripts}`. Ours has no
`{scripts}`: it carries one JavaScript bundle (window.vega, vegaLite, vegaEmbed) that the vl-convert-python wheel
ships, installed from PyPI like every dependency, so the page draws with no network at all.

`install(root)` writes the template to `.dvc/plots/offline.html`, then names it in the clone's own DVC config
(`.dvc/config.local`); both are ignored by git. `make install` runs it after pip, every time: when the file already
holds this bundle version and the config already names it, it changes nothing and takes a fraction of a second.

Order matters: DVC reads a template path that does not exist as the template text itself and then stops with
"HTML template has to contain '{plot_divs}'". So the file is written (atomically) before the config names it, and a
template deleted by hand comes back with the next `make install` (or `python -m tasks.dvc_plots`).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

TEMPLATE = Path("plots") / "offline.html"  # relative to .dvc/, as DVC resolves plots.html_template
SECTION, KEY = "plots", "html_template"
# DVC's vega-lite templates (dvc_render.vega_templates) declare "$schema": ".../vega-lite/v5.json": the newest
# Vega-Lite 5 that vl-convert bundles, so Vega-Embed compiles them with the major version they were written for.
VL_VERSION = "5.21"
DIST = "vl-convert-python"
# What DVC substitutes in a template, by plain text replacement: none may appear in the bundle.
DVC_PLACEHOLDERS = ("{scripts}", "{plot_divs}", "{refresh_tag}")

# `{refresh_tag}` and `{plot_divs}` are DVC's; @STAMP@, @VERSIONS@ and @BUNDLE@ are ours, filled by `page()`.
# No `{scripts}`: DVC then adds no CDN tags. The bundle sits in <head>, before the plot divs whose inline scripts
# call vegaEmbed as they are parsed.
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="@STAMP@">
{refresh_tag}
<title>glassbox: dvc plots</title>
<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
         max-width: 1100px; padding: 0 1rem; color: #1f2328; }
  h1 { font-size: 1.4rem; margin-bottom: 0.2rem; }
  .lede { color: #59636e; font-size: 0.9rem; margin-top: 0; }
  body > div { margin: 1.5rem 0; padding: 0.5rem; border: 1px solid #d1d9e0; border-radius: 6px; }
  table { border-spacing: 15px; }
</style>
<script>
@BUNDLE@
</script>
</head>
<body>
<h1>dvc plots</h1>
<p class="lede">The plots declared in dvc.yaml, drawn from the tables of the last run. Offline: @VERSIONS@ are
inline in this page.</p>
{plot_divs}
</body>
</html>
"""


@dataclass(frozen=True)
class OfflineTemplate:
    """What `install` left in a DVC repository."""

    path: Path  # the template file
    stamp: str  # the bundle version and page revision it holds (its generator meta)
    written: bool  # False: the file already held this stamp
    configured: bool  # False: .dvc/config.local already named it


def stamp(vl_version: str = VL_VERSION) -> str:
    """The bundle version and page revision a template holds: vl-convert-python's version fixes Vega and
    Vega-Embed, `vl_version` Vega-Lite, and a hash of PAGE the page around them. Read without loading the bundle."""
    page_hash = hashlib.sha256(PAGE.encode()).hexdigest()[:12]
    return f"glassbox tasks.dvc_plots; {DIST} {version(DIST)}; vega-lite {vl_version}; page {page_hash}"


def page(bundle: str, generator: str, versions: str) -> str:
    """The template: PAGE with the JavaScript bundle inline, ready for DVC to fill `{plot_divs}`.

    The bundle is made safe for an inline <script>: `</script` and `<!--` would end or confuse the element, and
    `<\\/` and `<\\!` mean the same in any JavaScript string, template or regular expression. It runs in its own
    function scope, so its top-level names cannot clash with the `var spec` of DVC's plot divs; it publishes
    vega, vegaLite and vegaEmbed on window itself."""
    clashes = [p for p in DVC_PLACEHOLDERS if p in bundle]
    if clashes:
        raise ValueError(f"the JavaScript bundle contains DVC's placeholder(s) {clashes}: DVC would replace them")
    safe = re.sub(r"</(script)", r"<\\/\1", bundle, flags=re.IGNORECASE).replace("<!--", "<\\!--")
    wrapped = f"(function () {{\n{safe}\n}}).call(window);"
    return PAGE.replace("@STAMP@", generator).replace("@VERSIONS@", versions).replace("@BUNDLE@", wrapped)


def _bundle(vl_version: str) -> tuple[str, str]:
    """vl-convert's bundle of Vega, Vega-Lite `vl_version` and Vega-Embed, and a line naming their versions."""
    import vl_convert

    bundle = vl_convert.javascript_bundle(vl_version=vl_version)
    versions = (
        f"Vega {vl_convert.get_vega_version()}, Vega-Lite {vl_version} and Vega-Embed "
        f"{vl_convert.get_vega_embed_version()} (from {DIST} {version(DIST)})"
    )
    return bundle, versions


def generator_of(text: str) -> str | None:
    """The content of a page's generator meta, or None."""
    found = re.search(r'<meta name="generator" content="([^"]*)">', text)
    return found.group(1) if found else None


def stamp_of(path: Path) -> str | None:
    """The stamp of a template file, read from its first lines (the meta sits above the bundle), or None: no file,
    or not ours."""
    try:
        with path.open(encoding="utf8") as f:
            return generator_of(f.read(2048))
    except FileNotFoundError:
        return None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf8")
    os.replace(tmp, path)


def _configure(dvc_dir: Path) -> bool:
    """Name the template in `.dvc/config.local` through DVC's own config API; False when it already does."""
    from dvc.config import Config

    config = Config(dvc_dir=str(dvc_dir))
    if config.read("local").get(SECTION, {}).get(KEY) == TEMPLATE.as_posix():
        return False
    with config.edit("local") as local:
        local.setdefault(SECTION, {})[KEY] = TEMPLATE.as_posix()
    return True


def install(root: Path, vl_version: str = VL_VERSION) -> OfflineTemplate:
    """Write the offline template into the DVC repository at `root` (unless it already holds this stamp), then
    name it in `.dvc/config.local`. The file always exists before the config names it."""
    dvc_dir = Path(root) / ".dvc"
    if not dvc_dir.is_dir():
        raise FileNotFoundError(f"{dvc_dir} is missing: {root} is not the root of a DVC repository")
    path = dvc_dir / TEMPLATE
    wanted = stamp(vl_version)
    written = stamp_of(path) != wanted
    if written:
        bundle, versions = _bundle(vl_version)
        _write_atomic(path, page(bundle, wanted, versions))
    return OfflineTemplate(path=path, stamp=wanted, written=written, configured=_configure(dvc_dir))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tasks.dvc_plots",
        description="Make `dvc plots show` draw offline: an HTML template with Vega inline, named in "
        ".dvc/config.local. Changes nothing when already done.",
    )
    parser.add_argument("--root", type=Path, default=Path("."), help="the DVC repository (default: here)")
    args = parser.parse_args(argv)
    done = install(args.root)
    if done.written or done.configured:
        print(f"dvc plots: offline template {done.path} ({done.stamp}), named in .dvc/config.local")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
