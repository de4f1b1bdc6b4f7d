"""Browser-side defences.

Every response carries a Content-Security-Policy that allows only our own script files (no inline
script, no event-handler attributes, no eval) and no framing, plus nosniff, a referrer policy and
X-Frame-Options. The last tests drive Chromium against the app under gunicorn to show that the
browser really refuses an injected inline script.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from app.models import PlanRun
from app.plans.core.markdown import render_plan
from tests.support.chromium import CspWatch, launch_args

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "app" / "templates"


def directives(response) -> dict[str, list[str]]:
    """The response's Content-Security-Policy as {directive: [sources]}."""
    policy = response.headers.get("Content-Security-Policy")
    assert policy, f"{response.request.path} has no Content-Security-Policy"
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_defended(response) -> None:
    """All four headers, and a policy without inline or eval scripts, that no page may frame."""
    csp = directives(response)
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts == ["'self'"], csp
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert not any(source in ("'unsafe-inline'", "'unsafe-eval'", "*") or source.startswith("http")
                   for name, sources in csp.items() if name.startswith(("script", "style"))
                   for source in sources), csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")


# -- every kind of response -------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/healthz", "/static/css/codex.css",
                                  "/static/vendor/htmx.org@2.0.11/htmx.min.js", "/no-such-page"])
def test_anonymous_responses_are_defended(client, path):
    with client.get(path) as response:  # static files hold an open file until closed
        assert response.status_code == (404 if path == "/no-such-page" else 200)
        assert_defended(response)


def test_signed_in_pages_and_their_htmx_fragments_are_defended(client, auth, make_user):
    make_user("boss", admin=True)
    auth.login("boss")
    page = client.get("/admin/users")
    fragment = client.get("/admin/users", headers={"HX-Request": "true"})
    assert "<html" in page.get_data(as_text=True)
    assert "<html" not in fragment.get_data(as_text=True)
    assert_defended(page)
    assert_defended(fragment)


def test_error_pages_are_defended(app, client):
    def boom():
        raise RuntimeError("planted failure")

    app.add_url_rule("/__boom__", "boom", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # let the 500 handler answer, as in production
    no_csrf = client.post("/login", data={"username": "x", "password": "y"})
    server_error = client.get("/__boom__")
    assert (no_csrf.status_code, server_error.status_code) == (400, 500)
    assert_defended(no_csrf)
    assert_defended(server_error)


def test_event_streams_are_defended(app, client, auth, make_user):
    from app.extensions import db

    user_id = make_user("boss", admin=True)
    with app.app_context():
        run = PlanRun(user_id=user_id, result_name="team-a-web", finding_kind="Pod",
                      finding_namespace="team-a", finding_name="web", mode="remediation",
                      output_text="Restart it.", status="done")
        db.session.add(run)
        db.session.commit()
        run_id = run.id
    auth.login("boss")
    response = client.get(f"/plans/runs/{run_id}/stream")
    assert response.mimetype == "text/event-stream"
    assert "Restart it." in response.get_data(as_text=True)
    assert_defended(response)


# -- what the policy allows ---------------------------------------------------------------------


def test_the_only_inline_styles_allowed_are_the_ones_plan_tables_use(client):
    """markdown-it aligns table columns with style attributes; exactly those are allowed."""
    from app.web.security_headers import style_hash

    html = render_plan("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n")
    used = set(re.findall(r'style="([^"]*)"', html))
    assert len(used) == 3, html  # left, center, right
    allowed = directives(client.get("/login"))["style-src-attr"]
    assert allowed[0] == "'unsafe-hashes'"
    assert {style_hash(style) for style in used} == set(allowed[1:])
    assert directives(client.get("/login"))["style-src"] == ["'self'"]  # no inline <style>


def test_htmx_is_configured_to_need_neither_eval_nor_inline_styles(client):
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r"<meta name=\"htmx-config\" content='([^']*)'>", page)
    assert match, "base.html has no htmx-config meta"
    config = json.loads(match.group(1))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert page.index('name="htmx-config"') < page.index("htmx.min.js")  # read when htmx loads


# What the policy would refuse, written into a template. htmx hx-on and trigger filters
# ("click[ctrlKey]") are eval'd, so with allowEval off they would silently stop working.
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
FORBIDDEN_IN_TEMPLATES = {
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>"),
    "inline <style>": re.compile(r"<style\b"),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*="),
    "event-handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*="),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "hx-on": re.compile(r"\b(data-)?hx-on\b"),
    "evaluated hx-vals/hx-vars": re.compile(r"""hx-vars|hx-vals\s*=\s*['"]\s*js:"""),
    "hx-trigger filter": re.compile(r"""hx-trigger\s*=\s*["'](?:[^"',]*,)*\s*[\w:.-]+\["""),
}


def test_no_template_needs_inline_script_style_or_eval():
    found = [f"{path.relative_to(ROOT)}: {what}: {match.group(0)[:80]}"
             for path in sorted(TEMPLATES.rglob("*.html"))
             for what, pattern in FORBIDDEN_IN_TEMPLATES.items()
             for match in pattern.finditer(JINJA_COMMENT.sub("", path.read_text()))]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("snippet", [
    "<script>alert(1)</script>", '<div style="color:red">', '<a href="#" onclick="go()">',
    '<button hx-on:click="go()">', "<b hx-vals='js:{a: 1}'>", '<i hx-trigger="click[ctrlKey]">',
    '<i hx-trigger="load, keyup[key==\'Enter\'] from:body">',
])
def test_the_template_check_catches_each_forbidden_construct(snippet):
    assert any(pattern.search(snippet) for pattern in FORBIDDEN_IN_TEMPLATES.values())


def test_the_template_check_accepts_what_the_templates_do():
    allowed = ('<script src="/static/js/plans.js" defer></script>'
               '<form hx-trigger="submit, change, keyup changed delay:400ms from:input[name=q]">'
               """<div hx-vals='{"dialog": "d1"}' hx-headers='{"X-CSRFToken": "t"}'>"""
               '<button type="submit" class="link-button">Sign out</button>')
    assert not [what for what, pattern in FORBIDDEN_IN_TEMPLATES.items() if pattern.search(allowed)]


# -- in Chromium --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served_app(unreachable_kubeconfig, tmp_path_factory):
    """The app under gunicorn (no cluster needed: the sign-in page is enough)."""
    from tests.support.app_server import AppServer

    server = AppServer(kubeconfig=unreachable_kubeconfig, workdir=tmp_path_factory.mktemp("csp-app"))
    with server:
        yield server


@pytest.fixture(scope="module")
def chromium(playwright):
    """Debian's Chromium, launched like the browser journeys launch it (pytest-playwright's driver)."""
    browser = playwright.chromium.launch(**launch_args())
    yield browser
    browser.close()


@pytest.fixture
def watched_page(chromium, served_app):
    """A Chromium page on the app and the CspWatch recording what its policy refused."""
    context = chromium.new_context(base_url=served_app.url)
    watch = CspWatch(context)
    page = context.new_page()
    yield page, watch
    context.close()


def _wait_for(page, condition, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"after {timeout}s still no {what}")
        page.wait_for_timeout(100)


def test_chromium_refuses_injected_inline_script_handlers_and_eval(watched_page):
    page, watch = watched_page
    page.goto("/login")
    page.wait_for_function("window.htmx && document.readyState === 'complete'")
    assert watch.report() == "", "the sign-in page itself broke its policy"

    # page.evaluate itself is exempt from the policy (DevTools), what it adds to the page is not;
    # a string timer is evaluated later, by the page.
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__canary = 'inline script ran'";
        document.body.appendChild(script);
        document.body.insertAdjacentHTML("beforeend",
            '<img src="/static/no-such.png" onerror="window.__canary = \\'handler ran\\'">');
        setTimeout("window.__canary = 'eval ran'", 0);
    }""")
    _wait_for(page, lambda: len(watch.events) >= 3,
              "violation reports for the inline script, the onerror handler and the string timer")
    page.wait_for_timeout(200)

    assert page.evaluate("window.__canary || null") is None
    assert sorted((v["directive"], v["blocked"]) for v in watch.events) == [
        ("script-src", "eval"), ("script-src-attr", "inline"), ("script-src-elem", "inline")]
    assert len(watch.console) == 3, watch.console


def test_chromium_applies_plan_table_alignment_but_no_other_inline_style(watched_page):
    page, watch = watched_page
    page.goto("/login")
    styles = page.evaluate("""() => {
        const aligned = document.createElement("td"), red = document.createElement("p");
        aligned.setAttribute("style", "text-align:center");
        red.setAttribute("style", "color: rgb(255, 0, 0)");
        const table = document.createElement("table"), row = table.insertRow();
        row.appendChild(aligned);
        document.body.append(table, red);
        return {align: getComputedStyle(aligned).textAlign, color: getComputedStyle(red).color};
    }""")
    _wait_for(page, lambda: watch.events, "violation report for the red paragraph")

    assert styles["align"] == "center"
    assert styles["color"] != "rgb(255, 0, 0)"
    assert [v["directive"] for v in watch.events] == ["style-src-attr"]


def test_chromium_will_not_show_the_app_in_a_frame(watched_page, served_app):
    page, _ = watched_page
    page.set_content(f'<iframe src="{served_app.url}/login"></iframe>')
    frame = page.frames[1]
    _wait_for(page, lambda: frame.url != "about:blank" and frame.url != "", "navigation in the frame")
    page.wait_for_timeout(500)

    assert frame.url.startswith("chrome-error://"), frame.url
    assert page.frame_locator("iframe").get_by_role("button", name="Sign in").count() == 0
