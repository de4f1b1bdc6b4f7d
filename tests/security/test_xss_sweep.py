"""The XSS sweep.

Every payload below is planted wherever the cluster lets us put text the app shows -- the
annotations of one object of every kind, a ConfigMap's data, Event messages, K8sGPT Results
(object name, error texts, parent, explanation), the context a user types into the plan dialog,
and through those the model's output (the offline planner quotes the errors it was sent and the
user's notes) -- plus the signed-in user's display name. Object names and label values cannot
carry a payload: the API server allows only ``[a-z0-9.-]`` (names) and ``[A-Za-z0-9._-]``
(label values). Container logs cannot either: the lab's kwok serves canned files per container
name (lab/labctl/components.py ``CONTAINER_LOGS``), and no page shows a log line (only the prompt does).

Chromium renders the dashboard (and its search box), the resource tables and detail views, the
plan dialog with a streamed plan, the dialog as a page, run pages, history and the admin's prompt
page. Two independent checks must stay empty:

- a page-level canary: every payload calls ``__xss(<id>)`` (a binding that outlives navigation),
  ``alert``, or fetches ``/xss-canary/<id>``; dialogs and those requests are recorded too, and so
  is every script-src report of the Content-Security-Policy (an injection the policy blocked:
  the app's own pages cause none);
- the DOM: no event-handler or ``hx-on`` attribute, no ``javascript:``/``data:`` URL, no frame,
  object, base or stray script element -- escaping is checked even where the CSP would block.

Each surface must also show the payloads' ``[p<id>]`` tags as text: a page that showed nothing
would prove nothing.
"""

from __future__ import annotations

import base64
import re
import sys
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import pytest

from app.kinds import KIND_NAMES, get_kind
from tests.security.sweep_support import (PASSWORD, HttpSession, LabObject, Timer, admin_grant,
                                          create_all, create_object, one_of_every_kind, sweep_namespaces,
                                          sweep_result, token)
from tests.support.app_server import AppServer
from tests.support.chromium import launch_args
from tests.support.lab_kube import APP_KUBECONFIG, RESULTS

SETTLE_MS = 150  # after "load": image errors, autofocus and toggle events fire by then

# Each payload calls __xss(<n>) (or alert, or fetches /xss-canary/<n>) if it ever runs.
PAYLOAD_TEMPLATES = [
    # script tags
    "<script>__xss({n})</script>",
    "<SCRIPT>__xss({n})</SCRIPT>",
    "<script src=/xss-canary/{n}.js></script>",
    "<script>alert({n})</script>",
    "</script><script>__xss({n})</script>",
    "<scr<script>ipt>__xss({n})</scr</script>ipt>",
    "<script\n>__xss({n})</script\n>",
    # event handlers
    "<img src=x onerror=__xss({n})>",
    '<img src="x" onerror="__xss({n})">',
    "<img/src=x/onerror=__xss({n})>",
    "<img src=x onerror=top.__xss({n})>",
    "<img src=x onerror=\\u005f\\u005fxss({n})>",
    '<img src=x onerror="&#95;&#95;xss({n})">',
    "<body onload=__xss({n})>",
    "<details open ontoggle=__xss({n})>",
    "<input autofocus onfocus=__xss({n})>",
    "<select autofocus onfocus=__xss({n})></select>",
    "<textarea autofocus onfocus=__xss({n})></textarea>",
    "<video><source onerror=__xss({n})></video>",
    "<audio src=x onerror=__xss({n})>",
    "<marquee onstart=__xss({n})>x</marquee>",
    "<x onclick=__xss({n}) style=display:block;position:fixed;inset:0>click</x>",
    "<div onmouseover=__xss({n})>hover</div>",
    # SVG and MathML
    "<svg onload=__xss({n})>",
    "<svg><script>__xss({n})</script></svg>",
    "<svg><animate onbegin=__xss({n}) attributeName=x dur=1s>",
    '<svg><a xlink:href="javascript:__xss({n})"><text x=20 y=20>x</text></a></svg>',
    '<svg><set attributeName=href to="javascript:__xss({n})"/></svg>',
    "<svg><style><img src=x onerror=__xss({n})></style></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=__xss({n})>",
    # javascript: and data: URLs
    "javascript:__xss({n})",
    '<a href="javascript:__xss({n})">link</a>',
    '<a href="JaVaScRiPt:__xss({n})">link</a>',
    '<a href="&#106;avascript:__xss({n})">link</a>',
    '<a href="jav&#x09;ascript:__xss({n})">link</a>',
    '<a href="  javascript:__xss({n})">link</a>',
    '<iframe src="javascript:__xss({n})"></iframe>',
    '<iframe srcdoc="<script>parent.__xss({n})</script>"></iframe>',
    '<object data="javascript:__xss({n})"></object>',
    '<embed src="javascript:__xss({n})">',
    '<form><button formaction="javascript:__xss({n})">go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:__xss({n})">',
    '<base href="javascript:__xss({n})//">',
    "<a href=\"data:text/html;base64,{b64}\">data</a>",
    # Markdown (the plan renderer) and htmx attributes
    "[click](javascript:__xss({n}))",
    "![img](javascript:__xss({n}))",
    "<javascript:__xss({n})>",
    "[a](javascript&#58;__xss({n}))",
    "[a]( javascript:__xss({n}) )",
    '<div hx-get="/xss-canary/{n}" hx-trigger="load">htmx</div>',
    '<div hx-on:htmx:load="__xss({n})">htmx</div>',
    '<div data-hx-get="/xss-canary/{n}" data-hx-trigger="load">htmx</div>',
    "<div hx-vals='js:{{a:__xss({n})}}' hx-get=\"/xss-canary/{n}\" hx-trigger=\"load\">htmx</div>",
    '<img src="/xss-canary/{n}.png">',
    # attribute and element breakouts
    '"><script>__xss({n})</script>',
    "'><img src=x onerror=__xss({n})>",
    '" onmouseover="__xss({n})" autofocus onfocus="__xss({n})" x="',
    "' autofocus onfocus='__xss({n})",
    "</textarea><script>__xss({n})</script>",
    "</title><script>__xss({n})</script>",
    "</pre><img src=x onerror=__xss({n})>",
    "</code></pre><svg onload=__xss({n})>",
    "</dialog><img src=x onerror=__xss({n})>",
    "</li></ul><img src=x onerror=__xss({n})>",
    "';__xss({n});//",
    '";__xss({n});//',
    # HTML entities and encodings (nothing may decode them twice)
    "&lt;script&gt;__xss({n})&lt;/script&gt;",
    "&#60;img src=x onerror=__xss({n})&#62;",
    "%3Cscript%3E__xss({n})%3C/script%3E",
    "\\x3cscript\\x3e__xss({n})\\x3c/script\\x3e",
    "\uff1cscript\uff1e__xss({n})\uff1c/script\uff1e",
    # broken markup, comments, mutation XSS
    "<img src=x onerror=__xss({n})",
    "<<img src=x onerror=__xss({n})>>",
    '<img """><script>__xss({n})</script>">',
    '<!--<img src="--><img src=x onerror=__xss({n})//">',
    "<![CDATA[<script>__xss({n})</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror=__xss({n})>">',
    "<style>@import 'javascript:__xss({n})';</style>",
    '<div style="background:url(javascript:__xss({n}))">style</div>',
    "<img\nsrc=x\nonerror=__xss({n})>",
]
DISPLAY_NAME = "<img src=x onerror=__xss('display-name')>"
TAG = re.compile(r"\[p(\d+)\]")


@dataclass(frozen=True)
class Payload:
    id: int
    text: str

    @property
    def tagged(self):
        """The payload as planted: a plain-text tag first, so any surface can show it was there."""
        return f"[p{self.id}] {self.text}"


def build_payloads() -> list[Payload]:
    out = []
    for n, template in enumerate(PAYLOAD_TEMPLATES, 1):
        b64 = base64.b64encode(f"<script>parent.__xss({n})</script>".encode()).decode()
        out.append(Payload(n, template.replace("{b64}", b64).replace("{{", "{").replace("}}", "}")
                           .replace("{n}", str(n))))
    return out


PAYLOADS = build_payloads()
ALL_IDS = {p.id for p in PAYLOADS}
STALL = "[[planner:stall_ms=3000]]"  # offline planner switch: wait 3 s before answering


def test_the_sweep_has_at_least_sixty_distinct_payloads():
    assert len({p.text for p in PAYLOADS}) == len(PAYLOADS) >= 60
    # Each one reports itself if it ever runs (the data: URL carries its call base64-encoded).
    assert all(re.search(r"xss\(|xss-canary/|alert\(|base64,", p.text) for p in PAYLOADS)


# -- the page-level canary and the DOM check ----------------------------------------------------

CANARY = """
(() => {
  const report = (what) => { try { window.__codexXss(String(what)); } catch (e) {} };
  try { Object.defineProperty(window, "__xss", {value: report, configurable: false}); } catch (e) {}
  document.addEventListener("securitypolicyviolation", (e) => {
    try { window.__codexCsp(`${e.effectiveDirective} ${e.blockedURI} ${e.sample}`); } catch (err) {}
  }, true);
})();
"""

# Anything here came from a payload: the app's own markup has none of it (test_07 checks the
# templates for handlers, hx-on, javascript: URLs and inline scripts).
DOM_CHECK = r"""
() => {
  const flagged = [];
  const here = location.href;
  const show = (el) => el.outerHTML.slice(0, 200);
  const path = (v) => { try { return new URL(v, here).pathname; } catch (e) { return ""; } };
  const bare = (v) => v.replace(/[\u0000-\u0020\u007f-\u00a0]/g, "").toLowerCase();
  const badUrl = (v) => (/^(javascript|vbscript|data):/.test(bare(v)) && !/^data:image\/(png|gif|jpeg|webp);/.test(bare(v)))
                        || path(v).startsWith("/xss-canary");
  const marked = (v) => /__xss|xss-canary|javascript:|^\s*js:/i.test(v);
  const URLISH = /^(href|src|action|formaction|xlink:href|data|poster|background|ping|codebase|cite|srcset|lowsrc|dynsrc|manifest|icon|values|to|from|by)$/;
  const HX_URL = /^(data-)?(hx-(get|post|put|patch|delete)|sse-connect)$/;
  for (const el of document.querySelectorAll("*")) {
    const tag = el.localName;
    if (["iframe", "frame", "frameset", "object", "embed", "applet", "base", "portal"].includes(tag)) flagged.push(`<${tag}>: ${show(el)}`);
    if (tag === "meta" && el.closest("body")) flagged.push(`<meta> in the body: ${show(el)}`);
    if (tag === "script" && (/__xss/.test(el.textContent) || !path(el.getAttribute("src") || "").startsWith("/static/"))) flagged.push(`<script>: ${show(el)}`);
    if (tag === "link" && !path(el.getAttribute("href") || "").startsWith("/static/")) flagged.push(`<link>: ${show(el)}`);
    if (tag === "style" && el.closest("body")) flagged.push(`<style> in the body: ${show(el)}`);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase(), value = attr.value;
      if (name.startsWith("on")) flagged.push(`${name} handler: ${show(el)}`);
      else if (/^(data-)?hx-on/.test(name)) flagged.push(`${name}: ${show(el)}`);
      else if (HX_URL.test(name)) { if (badUrl(value)) flagged.push(`${name} to ${value}: ${show(el)}`); }
      else if (/^(data-)?(hx|sse)-/.test(name)) { if (marked(value)) flagged.push(`${name}=${value}: ${show(el)}`); }
      else if (URLISH.test(name)) { if (badUrl(value)) flagged.push(`${name}=${value}: ${show(el)}`); }
      else if (name === "srcdoc") flagged.push(`srcdoc: ${show(el)}`);
      else if (name === "style" && /__xss|javascript:|expression\(|url\(/i.test(value)) flagged.push(`style=${value}: ${show(el)}`);
      else if (name.includes("xss") || name.includes("<") || name.includes('"')) flagged.push(`attribute ${name}: ${show(el)}`);
    }
  }
  return flagged;
}
"""


@dataclass
class Visit:
    surface: str
    url: str
    executions: list = field(default_factory=list)
    dom: list = field(default_factory=list)
    tags: set = field(default_factory=set)


class XssWatch:
    """Records, for one browser context, everything a payload could do if it ran."""

    def __init__(self, context):
        self.events: list[str] = []  # executions, and injections the CSP happened to block
        self.visits: list[Visit] = []
        self._seen = 0
        context.expose_binding("__codexXss", lambda source, what: self.events.append(
            f"__xss({what}) ran on {source['frame'].url}"))
        context.expose_binding("__codexCsp", self._csp)
        context.add_init_script(CANARY)
        context.route("**/xss-canary/**", self._canary_request)
        context.route(re.compile(r"^(?!(https?|wss?)://(127\.0\.0\.1|localhost)(:\d+)?/)[a-z]+://"),
                      self._off_site)
        context.on("page", self._watch_page)

    def _watch_page(self, page):
        page.on("dialog", lambda dialog: (self.events.append(
            f"{dialog.type}({dialog.message!r}) on {page.url}"), dialog.dismiss()))

    def _csp(self, source, report):
        # The app's own pages never trip script-src (the browser suite fails on any violation),
        # and without 'report-sample' the report does not say which payload it was.
        if report.startswith("script-src"):
            self.events.append(f"CSP blocked an injected script on {source['frame'].url}: {report}")

    def _canary_request(self, route):
        if not urlsplit(route.request.url).path.startswith("/xss-canary"):
            # The glob also matches a canary in a query string: the dashboard's own push stream
            # carries the (escaped) filter the payload was typed into. That is no payload running.
            route.continue_()
            return
        self.events.append(f"request {route.request.url} (from {route.request.frame.url})")
        route.fulfill(status=204, body="")

    def _off_site(self, route):
        self.events.append(f"off-site request {route.request.url}")
        route.abort()

    def look(self, page, surface: str, root: str = "body") -> Visit:
        """Let the page settle, then take what ran, what the DOM holds and which tags it shows."""
        page.wait_for_timeout(SETTLE_MS)
        page.evaluate("0")  # a round trip: bindings still in flight arrive first
        visit = Visit(surface, page.url)
        visit.dom = page.evaluate(DOM_CHECK)
        text = page.evaluate("(sel) => [...document.querySelectorAll(sel)].map(e => e.textContent).join('\\n')",
                             root)
        visit.tags = {int(n) for n in TAG.findall(text)}
        visit.executions, self._seen = self.events[self._seen:], len(self.events)
        self.visits.append(visit)
        return visit

    def visit(self, page, url: str, surface: str, root: str = "body") -> Visit:
        page.goto(url, wait_until="load")
        return self.look(page, surface, root)

    def pages(self, page, url: str, surface: str, next_label: str) -> list[Visit]:
        """Visit a paged list: the first page, then each "next" link's target."""
        visits = [self.visit(page, url, surface)]
        for _ in range(20):
            link = page.get_by_role("link", name=next_label)
            if not link.count():
                break
            visits.append(self.visit(page, link.first.get_attribute("href"), surface))
        return visits

    @staticmethod
    def problems(visits) -> list[str]:
        out = []
        for v in visits:
            out += [f"[{v.surface}] {v.url}: EXECUTED {e}" for e in v.executions]
            out += [f"[{v.surface}] {v.url}: LIVE {d}" for d in v.dom]
        return out


def payloads_named(ids) -> str:
    by_id = {p.id: p for p in PAYLOADS}
    return "; ".join(f"p{i} {by_id[i].text!r}" for i in sorted(ids) if i in by_id)


# -- the world, the app, the people ------------------------------------------------------------


@dataclass
class XssWorld:
    ns: str
    objects: dict  # kind -> LabObject (payloads in every annotation)
    second_pod: LabObject
    main_result: str  # every payload in its errors and explanation, about the pod
    results: dict  # payload id -> Result whose object name, errors, parent and explanation hold it
    # payload id -> the Result its plan is made for: ``results`` unless the payload holds a "/".
    # Such a name cannot be an object's, so its plan pages are reached through a Result about the
    # pod instead (spec.name is split at the first "/", app/findings.py).
    plan_results: dict


@pytest.fixture(scope="module")
def xss_world(kube):
    ns = f"codex-canary-{token('c').split('-')[1][:6]}"
    annotations = {f"xss.codex-test/p{p.id}": p.tagged for p in PAYLOADS}
    with sweep_namespaces(kube, ns):
        objects = one_of_every_kind(ns)
        create_all(kube, objects, annotations=annotations, data={f"p{p.id}": p.tagged for p in PAYLOADS},
                   labels={"codex-probe": "onerror_alert.1"})
        second = LabObject("pods", ns, token("podname"), token("podmark"))
        create_object(kube, second, pod=second.name, service=objects["services"].name, annotations=annotations)
        half = len(PAYLOADS) // 2
        for number, p in enumerate(PAYLOADS):  # the detail view shows 50 events per object
            event = LabObject("events", ns, token("eventname"), token("eventmark"))
            pod = objects["pods"].name if number < half else second.name
            create_object(kube, event, pod=pod, service=objects["services"].name, event_message=p.tagged)
        main = token("ccxresult")
        kube.create(RESULTS, sweep_result(main, "Pod", f"{ns}/{objects['pods'].name}",
                                          [p.tagged for p in PAYLOADS],
                                          details="\n".join(p.tagged for p in PAYLOADS)))
        results, plan_results = {}, {}
        for p in PAYLOADS:
            results[p.id] = plan_results[p.id] = token("ccxresult")
            kube.create(RESULTS, sweep_result(results[p.id], "Pod", f"{ns}/{p.tagged}", [p.tagged],
                                              details=p.tagged, parent=p.tagged))
            if "/" in p.tagged:
                plan_results[p.id] = token("ccxresult")
                kube.create(RESULTS, sweep_result(plan_results[p.id], "Pod", f"{ns}/{second.name}", [p.tagged],
                                                  details=p.tagged, parent=p.tagged))
        yield XssWorld(ns, objects, second, main, results, plan_results)


@pytest.fixture(scope="module")
def server(xss_world, planner, tmp_path_factory):
    """The app under gunicorn on the lab, limits loose enough for one plan per payload."""
    app_server = AppServer(kubeconfig=APP_KUBECONFIG, llm_base_url=planner.base_url,
                           workdir=tmp_path_factory.mktemp("xss-app"),
                           extra_env={"CODEX_PLAN_MAX_CONCURRENT": "1000", "CODEX_PLAN_MAX_PER_MINUTE": "1000",
                                      "CODEX_PLAN_CONTEXT_LIMIT": "20000"})
    app_server.prepare_database()
    app_server.admin_password = app_server.seed_admin("admin")
    with app_server:
        yield app_server


@dataclass
class People:
    admin: HttpSession
    dev: HttpSession
    dev_name: str


@pytest.fixture(scope="module")
def people(server, xss_world):
    """An administrator and a developer (every kind in the namespace; a payload as display name)."""
    dev_name = token("dev")
    out = server.flask("users", "create", dev_name, "--password-stdin", "--display-name", DISPLAY_NAME,
                       stdin=PASSWORD + "\n")
    dev_id = int(re.search(r"\(id (\d+)\)", out).group(1))
    admin = HttpSession(server.url).sign_in("admin", server.admin_password)
    admin_grant(admin, dev_id, xss_world.ns, KIND_NAMES)
    return People(admin, HttpSession(server.url).sign_in(dev_name, PASSWORD), dev_name)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return launch_args(browser_type_launch_args)


@pytest.fixture(scope="module")
def ledger(pytestconfig):
    """Every visit of the module, summarised once at the end (on the terminal, captured or not)."""
    record = {"watches": [], "timer": Timer()}
    yield record
    visits = [v for w in record["watches"] for v in w.visits]
    executions = sum(len(v.executions) for v in visits)
    live = sum(len(v.dom) for v in visits)
    surfaces = sorted({v.surface for v in visits})
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled():
        sys.stderr.write(f"\nxss sweep: {len(PAYLOADS)} payloads, {len(visits)} page views over {len(surfaces)} "
                         f"surfaces ({', '.join(surfaces)}); {executions} executions, {live} live elements; "
                         f"{record['timer'].summary()}\n")


def _signed_in_context(browser, server, username, password, ledger):
    context = browser.new_context(base_url=server.url, viewport={"width": 1366, "height": 900})
    context.set_default_timeout(20_000)
    watch = XssWatch(context)
    ledger["watches"].append(watch)
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_role("button", name="Sign out").wait_for()
    return context, page, watch


@pytest.fixture(scope="module")
def dev_browser(browser, server, people, ledger):
    context, page, watch = _signed_in_context(browser, server, people.dev_name, PASSWORD, ledger)
    yield page, watch
    context.close()


@pytest.fixture(scope="module")
def admin_browser(browser, server, people, ledger):
    context, page, watch = _signed_in_context(browser, server, "admin", server.admin_password, ledger)
    yield page, watch
    context.close()


def assert_clean_and_shown(watch, visits, want_ids=ALL_IDS, each=False):
    """No execution, nothing live; and the payloads reached the surface (all of them, or the
    wanted one on each visit when ``each``)."""
    problems = watch.problems(visits)
    if each:
        missing = [f"{v.surface} {v.url}" for v in visits if not (v.tags & want_ids)]
    else:
        shown = set().union(*(v.tags for v in visits))
        missing = [payloads_named(want_ids - shown)] if want_ids - shown else []
    assert not problems, f"{len(problems)} payload(s) executed or came alive:\n" + "\n".join(problems[:100])
    assert not missing, f"payloads that never reached the page (the check proves nothing there): {missing[:20]}"


# -- the sweep -----------------------------------------------------------------------------------


def test_the_canary_and_the_dom_check_catch_a_payload_that_runs(browser, server):
    """Both checks can fail: without a policy (about:blank) an injected handler runs and is
    recorded; on an app page the policy blocks it, and the report and the DOM still show it."""
    context = browser.new_context(base_url=server.url)
    watch = XssWatch(context)
    page = context.new_page()
    page.set_content('<img src="x:" onerror="__xss(\'self-test\')"><a href="javascript:__xss(1)">x</a>'
                     '<div hx-on:click="x">y</div>')
    blank = watch.look(page, "self-test")
    page.goto("/login")
    page.evaluate("""() => document.body.insertAdjacentHTML("beforeend",
        '<img src="/static/no-such.png" onerror="__xss(\\'csp-self-test\\')">')""")
    app_page = watch.look(page, "self-test under the app's policy")
    context.close()
    assert any("__xss(self-test) ran" in e for e in blank.executions), blank
    found = "\n".join(blank.dom)
    assert "onerror handler" in found and "href=javascript:" in found and "hx-on:click" in found, found
    assert any("CSP blocked" in e and "script-src-attr" in e for e in app_page.executions), app_page
    assert any("onerror handler" in d for d in app_page.dom), app_page


def test_dashboard_rows_and_the_search_box(dev_browser, xss_world, ledger):
    page, watch = dev_browser
    with ledger["timer"].phase("dashboard"):
        pages = watch.pages(page, "/", "dashboard", "Next →")
        assert_clean_and_shown(watch, pages)
        assert len(pages) >= 2, "every payload has its own Result: the dashboard needs more than one page"
        searches, altered = [], []
        for p in PAYLOADS:
            searches.append(watch.visit(page, "/?" + urlencode({"q": p.text}), "dashboard search"))
            # The box holds exactly what was searched for (a search field drops line breaks).
            if page.locator("input[name=q]").input_value() != p.text.replace("\n", ""):
                altered.append(p.id)
        assert_clean_and_shown(watch, searches)
        assert not altered, f"the search box did not hold these payloads as typed: {payloads_named(altered)}"


def test_resource_tables_and_detail_views(dev_browser, xss_world, ledger):
    page, watch = dev_browser
    ns = xss_world.ns
    with ledger["timer"].phase("resources"):
        tables = [v for kind in KIND_NAMES
                  for v in watch.pages(page, f"/resources/{kind}?ns={ns}", f"{kind} table", "Next page →")]
        assert_clean_and_shown(watch, tables, set())
        assert_clean_and_shown(watch, [t for t in tables if t.surface == "events table"])  # the messages
        details = []
        for kind, obj in [*xss_world.objects.items(), ("pods", xss_world.second_pod)]:
            visit = watch.visit(page, f"/resources/{kind}/{ns}/{obj.name}", f"{get_kind(kind).api_kind} detail")
            assert_clean_and_shown(watch, [visit])  # every payload is in every object's annotations
            details.append(visit)
        # The two pods' detail views list the events about them; the first one also the main Result.
        pods = [v for v in details if v.surface == "Pod detail"]
        assert_clean_and_shown(watch, pods)


def _open_dialog(page, result_name, mode):
    row = page.locator(f"tr#finding-{result_name}")
    row.get_by_role("link", name=re.compile("Remediation plan" if mode == "remediation" else "Root-cause plan")).click()
    dialog = page.locator("dialog.plan-dialog[open]")
    dialog.wait_for()
    return dialog


def _generate_in(page, dialog, context, timeout=90):
    dialog.get_by_label(re.compile("What you know")).fill(context)
    dialog.get_by_role("button", name="Generate").click()
    dialog.locator(".plan-stream-slot [data-plan-finished]").wait_for(timeout=timeout * 1000)
    return dialog.locator(".plan-stream-slot [data-plan-finished]").get_attribute("data-status")


def test_plan_dialog_with_a_streamed_plan(dev_browser, xss_world, ledger):
    """The dialog (htmx), the user's context, the streamed model output and the refreshed history."""
    page, watch = dev_browser
    context = "\n".join(p.tagged for p in PAYLOADS)
    with ledger["timer"].phase("plan dialog"):
        for mode in ("remediation", "root_cause"):
            page.goto(f"/?q={xss_world.objects['pods'].name}")
            dialog = _open_dialog(page, xss_world.main_result, mode)
            opened = watch.look(page, f"plan dialog ({mode})", "dialog.plan-dialog")
            assert_clean_and_shown(watch, [opened])
            status = _generate_in(page, dialog, context)
            assert status == "done", f"the {mode} plan ended {status}"
            page.wait_for_timeout(500)  # the history refreshes itself when the plan finishes
            streamed = watch.look(page, f"streamed plan ({mode})", "dialog.plan-dialog .plan-output")
            assert_clean_and_shown(watch, [streamed])  # the planner quotes every error it was sent
            history = watch.look(page, f"dialog history ({mode})", "dialog.plan-dialog .plan-history")
            assert_clean_and_shown(watch, [history], set())
            assert history.dom == [] and dialog.locator(".plan-history li").count() >= 1
            dialog.get_by_role("button", name="Close the dialog").click()


def test_each_finding_as_a_dialog_page(dev_browser, xss_world, ledger):
    page, watch = dev_browser
    with ledger["timer"].phase("dialog pages"):
        visits = []
        for p in PAYLOADS:
            visit = watch.visit(page, "/plans/dialog?" + urlencode({"result": xss_world.plan_results[p.id],
                                                                     "mode": "remediation"}), "dialog page")
            visits.append(visit)
            assert_clean_and_shown(watch, [visit], {p.id}, each=True)


def test_run_pages_history_and_prompt(dev_browser, admin_browser, people, xss_world, ledger):
    """A plan per payload-named finding (made over HTTP, streamed), then its run page and history;
    one run streamed live on its own run page; the administrator's view of a prompt."""
    page, watch = dev_browser
    dev = people.dev
    with ledger["timer"].phase("runs over HTTP"):
        runs = {}
        for p in PAYLOADS:
            response = dev.post("/plans/runs", {"result": xss_world.plan_results[p.id], "mode": "remediation",
                                                "context": p.tagged})
            assert response.status_code == 303, f"p{p.id}: {response.status_code} {response.text[:300]}"
            runs[p.id] = response.headers["Location"]
            dev.read_stream(runs[p.id] + "/stream")
    with ledger["timer"].phase("run pages"):
        visits = []
        for p in PAYLOADS:
            visit = watch.visit(page, runs[p.id], "run page")
            visits.append(visit)
            assert_clean_and_shown(watch, [visit], {p.id}, each=True)
        # A plan is a job that runs whether or not anyone follows it: the planner holds its first token
        # for 3 s so that it is still being written when its run page opens and streams it.
        live = dev.post("/plans/runs", {"result": xss_world.main_result, "mode": "root_cause",
                                        "context": "\n".join([*(p.tagged for p in PAYLOADS), STALL])})
        assert live.status_code == 303, live.text[:300]
        page.goto(live.headers["Location"])  # its stream opens here, in the browser
        page.locator("[data-plan-finished]").wait_for(timeout=90_000)
        streamed = watch.look(page, "run page, streamed live")
        assert_clean_and_shown(watch, [streamed])
        stored = watch.visit(page, live.headers["Location"], "run page, stored")
        assert_clean_and_shown(watch, [stored])
    with ledger["timer"].phase("history"):
        pod = xss_world.objects["pods"].name
        histories = [watch.visit(page, "/plans/history?" + urlencode(
            {"kind": "Pod", "namespace": xss_world.ns, "name": p.tagged}), "history") for p in PAYLOADS]
        assert_clean_and_shown(watch, histories, ALL_IDS)
        main = watch.visit(page, "/plans/history?" + urlencode({"kind": "Pod", "namespace": xss_world.ns,
                                                                 "name": pod}), "history")
        assert_clean_and_shown(watch, [main], set())
        assert page.locator(".plan-history li").count() >= 1  # the live one (and the dialog's plans)
    with ledger["timer"].phase("prompt"):
        admin_page, admin_watch = admin_browser
        run_id = re.search(r"/plans/runs/(\d+)", live.headers["Location"]).group(1)
        prompt = admin_watch.visit(admin_page, f"/plans/runs/{run_id}/prompt", "prompt (admin)")
        assert_clean_and_shown(admin_watch, [prompt])
        admin_run = admin_watch.visit(admin_page, live.headers["Location"], "run page (admin)")
        assert_clean_and_shown(admin_watch, [admin_run])


def test_no_payload_ran_anywhere(dev_browser, ledger):
    """Across every page the module opened: no execution and nothing blocked by the policy.

    It asks for the browser so pytest keeps it with the module's other browser tests (a
    session-scoped browser parameter regroups tests; apart, it would see an empty ledger).
    """
    assert sum(len(w.visits) for w in ledger["watches"]) >= 200, "the sweep opened too few pages"
    leftovers = [e for w in ledger["watches"] for e in w.events]
    assert not leftovers, "\n".join(leftovers[:100])
