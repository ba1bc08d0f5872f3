"""The browser harness (tests/browser.py) sees what a report test must catch: console errors, broken images and
any request a self-contained page should not make; a clean page shows none of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser
from tests.browser import artifact, render

# a 2x2 red PNG
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg=="


def _page(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.html"
    path.write_text(f"<!doctype html><html><head><title>{name}</title></head><body>{body}</body></html>")
    return path


def test_self_contained_page_renders_clean(tmp_path):
    """A page whose only image is an inline data: PNG: no console error, no broken image, no request; its
    title and text are read and a full-page screenshot is kept."""
    page = _page(tmp_path, "clean", f"<h1>All gates passed</h1><img alt='dot' src='data:image/png;base64,{PNG}'>")
    shown = render(page, artifact("unit-browser/clean.png"))
    assert shown.console_errors == ()
    assert shown.broken_images == ()
    assert shown.requests == ()
    assert shown.title == "clean"
    assert "All gates passed" in shown.text
    png = shown.screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes(png[16:20], "big") == browser.WIDTH  # the page's width, as the window


def test_console_error_is_reported(tmp_path):
    """A script that calls console.error, and one that throws, are both console errors."""
    page = _page(tmp_path, "console", "<p>x</p><script>console.error('boom x')</script><script>null.f()</script>")
    shown = render(page, artifact("unit-browser/console.png"))
    assert any("boom x" in e for e in shown.console_errors), shown.console_errors
    assert any("TypeError" in e for e in shown.console_errors), shown.console_errors
    assert shown.broken_images == ()


def test_missing_image_is_broken_and_a_request(tmp_path):
    """An <img> whose file is missing is a broken image, a request for a file and a failed load."""
    page = _page(tmp_path, "missing", "<img src='missing.png'>")
    shown = render(page, artifact("unit-browser/missing.png"))
    assert shown.broken_images == ("missing.png",)
    assert shown.requests == ((tmp_path / "missing.png").as_uri(),)
    assert any("missing.png" in e for e in shown.console_errors), shown.console_errors


def test_remote_script_is_a_request(tmp_path):
    """A page that loads a script from a server (as a CDN link would) makes a request, even when the server
    does not answer: offline, such a page would render without the script."""
    page = _page(tmp_path, "remote", "<p>chart</p><script src='http://127.0.0.1:9/vega.js'></script>")
    shown = render(page, artifact("unit-browser/remote.png"))
    assert shown.requests == ("http://127.0.0.1:9/vega.js",)


def test_missing_browser_skips_with_the_reason(monkeypatch, tmp_path):
    """Without chromium the browser tests skip and name `make install`, rather than fail."""
    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.skip.Exception, match="make install"):
        browser.require_chromium()
