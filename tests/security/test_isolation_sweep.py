"""The isolation sweep.

Namespaces A and B in the lab hold one object of every supported kind, each with a unique name
and a unique marker inside it (an annotation; a ConfigMap's data, an Event's message, a Secret's
value); crafted K8sGPT Results and stored plan runs are about objects in both. Three users ask
for every route of ``app.url_map`` -- so a route added later is swept too -- with every namespace
(A, B, one that does not exist), kind and object name, with and without htmx headers (every
``HX-Target`` the views branch on), GET and, with a CSRF token, POST:

- u1 holds every kind in A, u2 holds only ``services`` in A, u3 holds nothing (and anonymous).
- No body or header may contain a name or marker that exists only outside the user's grants.
  The rules are the app's: a finding is shown for a granted namespace whatever its kind
  (app/findings.py), so u2 may read the names a Result about A mentions -- K8sGPT's own Results
  about the test objects included, read again while the sweep runs -- and nothing else of A
  outside Services; a plan run is read by its owner with its namespace, by others only with every
  kind its context read (app/plans/runs.py readable_by). A Secret's value is never shown.
- No status is 5xx; admin routes and the admin-only prompt are refused to non-administrators;
  another user's plan stream (and Stop) is 404, so is a run its reader may not read; resources
  outside the grants are 403/404. No POST made anybody an administrator, a user or a grant.

The counts (requests, leaks, 5xx, refusals) and the run time are printed; every finding is
written to artifacts/security/isolation-sweep.txt.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote_plus, urlencode

import pytest
from flask import got_request_exception
from werkzeug.routing import AnyConverter, FloatConverter, IntegerConverter

from app.extensions import db
from app.kinds import KIND_NAMES, get_kind
from app.models import Grant, PlanRun, User
from app.plans.core.vocabulary import MODES
from app.plans import runs as runs_module
from tests.security.sweep_support import (PASSWORD, Timer, create_all, one_of_every_kind,
                                          results_about, sweep_namespaces, sweep_result, token)
from tests.support.lab_kube import RESULTS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.db_engines("postgres")  # the production engine; the sweep is long

NOWHERE = "codex-sweep-no-such-namespace"
MIN_REQUESTS = 1000
REPORT = ROOT / "artifacts" / "security" / "isolation-sweep.txt"
SKIPPED = {("auth.login", "POST"), ("auth.logout", "POST")}  # would end the session being swept
ID_CONSTANT = re.compile(r'^[A-Z_]*_ID\s*=\s*"([a-z0-9-]+)"', re.M)
STATIC_TARGET = re.compile(r'hx-target="#([a-z0-9-]+)"')


def htmx_targets() -> list[str]:
    """The element ids the views branch on (``*_ID`` constants) and the templates' fixed targets."""
    ids = {m for path in (ROOT / "app" / "blueprints").glob("*.py")
           for m in ID_CONSTANT.findall(path.read_text())}
    ids |= {m for path in (ROOT / "app" / "templates").rglob("*.html")
            for m in STATIC_TARGET.findall(path.read_text())}
    return sorted(ids)


def header_variants() -> list[dict]:
    htmx = {"HX-Request": "true"}
    return ([{}, htmx] + [{**htmx, "HX-Target": target} for target in htmx_targets()]
            + [{**htmx, "HX-Boosted": "true"}, {**htmx, "HX-History-Restore-Request": "true"}])


# -- the world ------------------------------------------------------------------------------


@pytest.fixture
def app_config(lab_app_config):
    """The app on the lab and the offline planner; no plan limit gets in the sweep's way."""
    return {**lab_app_config, "CODEX_PLAN_MAX_CONCURRENT": 100_000, "CODEX_PLAN_MAX_PER_MINUTE": 100_000}


@dataclass
class World:
    ns_a: str
    ns_b: str
    objects: dict  # namespace -> kind -> LabObject
    results: dict  # key -> (result name, Kind, namespace, object name)
    result_tokens: dict  # namespace -> tokens that only the crafted Results about it contain

    def obj(self, ns, kind):
        return self.objects[ns][kind]


@pytest.fixture(scope="module")
def world(kube):
    tag = token("s").split("-")[1][:6]
    ns_a, ns_b = f"codex-sweep-{tag}-a", f"codex-sweep-{tag}-b"
    with sweep_namespaces(kube, ns_a, ns_b):
        objects = {ns: one_of_every_kind(ns) for ns in (ns_a, ns_b)}
        for ns in (ns_a, ns_b):
            create_all(kube, objects[ns])
        a, b = objects[ns_a], objects[ns_b]
        b_text, b_details = token("resulttext"), token("resultdetails")
        specs = {
            # About A: the texts name only the affected object (u2 may read them).
            "a_pod": ("Pod", ns_a, a["pods"].name,
                      [f"back-off restarting failed container app in pod {a['pods'].name}"], "", ""),
            "a_service": ("Service", ns_a, a["services"].name,
                          [f"Service has no endpoints, expected label app={a['services'].name}"], "", ""),
            # About B: names of other B objects and a token of their own.
            "b_pod": ("Pod", ns_b, b["pods"].name,
                      [f"back-off restarting container app: secret {b['secrets'].name} {b_text}"],
                      f"The pod reads {b['configmaps'].name}. {b_details}",
                      f"Deployment/{b['deployments'].name}"),
            "b_configmap": ("ConfigMap", ns_b, b["configmaps"].name,
                            [f"ConfigMap {b['configmaps'].name} is not used by any pods {b_text}"], "", ""),
            "b_deployment": ("Deployment", ns_b, b["deployments"].name,
                             [f"Deployment {ns_b}/{b['deployments'].name} has 1 replicas but 0 are available"],
                             "", ""),
        }
        results = {}
        for key, (kind, ns, name, errors, details, parent) in specs.items():
            result_name = token("resultname")
            kube.create(RESULTS, sweep_result(result_name, kind, f"{ns}/{name}", errors, details, parent))
            results[key] = (result_name, kind, ns, name)
        yield World(ns_a, ns_b, objects, results, {ns_b: [b_text, b_details]})


# -- the people and their plans ---------------------------------------------------------------


@dataclass
class Person:
    name: str
    user_id: int | None
    grants: dict  # namespace -> kinds
    admin: bool = False
    client: object = None
    forbidden: dict = field(default_factory=dict)  # token -> what it is

    def allows(self, namespace, kind=None):
        if self.admin:
            return True
        kinds = self.grants.get(namespace) or set()
        return bool(kinds) and (kind is None or kind in kinds)


@dataclass
class Run:
    run_id: int
    owner: str
    namespace: str
    tokens: list  # what only this run's stored text contains
    context_kinds: frozenset = frozenset()  # what its prompt read (a reader other than the owner needs all)

    def readable_by(self, person):
        """The app's rule (app/plans/runs.py readable_by), restated for the expected statuses."""
        return person.allows(self.namespace) and (
            person.admin or person.name == self.owner or all(person.allows(self.namespace, k)
                                                            for k in self.context_kinds))


def _stored_run(app, user_id, world, key, output, context, status="done"):
    result_name, kind, ns, name = world.results[key]
    with app.app_context():
        run = PlanRun(user_id=user_id, result_name=result_name, finding_kind=kind, finding_namespace=ns,
                      finding_name=name, mode="remediation", user_context=context, model="codex-offline-planner",
                      prompt_text=f"prompt {output}", prompt_messages="[]", output_text=output, status=status)
        db.session.add(run)
        db.session.commit()
        return run.id


def _generated_run(client, world, key):
    """Press Generate (htmx) for a finding; return the new run's id from the stream URL."""
    response = client.submit("/plans/runs", {"result": world.results[key][0], "mode": "remediation",
                                             "context": "we rolled out v2.3"}, htmx=True)
    body = response.get_data(as_text=True)
    match = re.search(r'sse-connect="/plans/runs/(\d+)/stream"', body)
    assert response.status_code == 200 and match, f"Generate failed: {response.status_code} {body[:500]}"
    return int(match.group(1))


@pytest.fixture
def cast(app, world, lab_user, sign_in):
    """admin, u1 (A: every kind), u2 (A: services), u3 (nothing), anonymous; stored and live runs."""
    a = world.ns_a
    people = {
        "admin": Person("admin", lab_user("admin", admin=True), {}, admin=True),
        "u1": Person("u1", lab_user("u1", {a: set(KIND_NAMES)}), {a: set(KIND_NAMES)}),
        "u2": Person("u2", lab_user("u2", {a: {"services"}}), {a: {"services"}}),
        "u3": Person("u3", lab_user("u3"), {}),
        "anonymous": Person("anonymous", None, {}),
    }
    for person in people.values():
        person.client = sign_in(person.name) if person.user_id else app.test_client()
    admin_id, u1_id = people["admin"].user_id, people["u1"].user_id
    runs = []
    for owner, user_id, key, status in (("admin", admin_id, "b_pod", "done"),
                                        ("admin", admin_id, "b_configmap", "streaming"),
                                        ("u1", u1_id, "b_deployment", "done"),  # revoked since
                                        ("admin", admin_id, "a_pod", "done")):
        tokens = [token("runtext"), token("runcontext")]
        run_id = _stored_run(app, user_id, world, key, f"Restart it. {tokens[0]}", f"we think {tokens[1]}",
                             status)
        runs.append(Run(run_id, owner, world.results[key][2], tokens))
    for owner in ("u1", "u2"):
        run_id = _generated_run(people[owner].client, world, "a_pod")
        with app.app_context():
            kinds = frozenset(runs_module.context_kinds_of(db.session.get(PlanRun, run_id)))
        runs.append(Run(run_id, owner, a, [], kinds))
    return people, runs


def forbidden_tokens(world, runs, person) -> dict:
    """What ``person`` must never be shown: every name and marker outside their grants (the
    names a finding in a granted namespace mentions are let through later, see ``leaks``)."""
    out = {}
    for ns, objects in world.objects.items():
        for kind, obj in objects.items():
            if obj.secret_value:
                out[obj.secret_value] = f"the value of Secret {ns}/{obj.name}"
            if person.allows(ns, kind):
                continue
            out[obj.marker] = f"the marker inside {kind} {ns}/{obj.name}"
            out[obj.name] = f"the name of {kind} {ns}/{obj.name}"
    for key, (result_name, kind, ns, name) in world.results.items():
        if not person.allows(ns):
            out[result_name] = f"Result {result_name} about {kind} {ns}/{name}"
    for ns, tokens in world.result_tokens.items():
        if not person.allows(ns):
            out.update({t: f"text of a Result about {ns}" for t in tokens})
    for run in runs:
        if not run.readable_by(person):
            out.update({t: f"stored text of plan run {run.run_id} about {run.namespace}" for t in run.tokens})
    for ns in (world.ns_a, world.ns_b):
        if not person.allows(ns):
            out[ns] = f"the namespace {ns}"
    return out


# -- the requests ---------------------------------------------------------------------------


@dataclass
class Request:
    endpoint: str
    method: str
    path: str
    query: dict
    headers: dict
    form: dict | None = None

    def describe(self):
        query = f"?{urlencode(self.query, doseq=True)}" if self.query else ""
        headers = " ".join(f"{k}: {v}" for k, v in self.headers.items() if k != "X-CSRFToken")
        form = f" form={self.form}" if self.form else ""
        return f"{self.method} {self.path}{query} [{headers or 'no htmx headers'}]{form}"

    def text(self):
        """Everything the client sent (decoded): a token in here is an echo, not a leak."""
        return unquote_plus(" ".join([self.path, urlencode(self.query, doseq=True),
                                      urlencode(self.form or {}, doseq=True)]))


def path_arguments(rule, world, people, runs, grant_ids) -> list[dict]:
    """Every combination of values for the rule's URL arguments."""
    names_by_kind = {}
    for objects in world.objects.values():
        for kind, obj in objects.items():
            names_by_kind.setdefault(kind, []).append(obj.name)
    all_names = [n for names in names_by_kind.values() for n in names[:1]]
    user_ids = [p.user_id for p in people.values() if p.user_id] + [10**9]
    run_ids = [r.run_id for r in runs] + [10**9]

    def candidates(arg, chosen):
        if arg == "kind":
            return list(KIND_NAMES) + ["nosuchkind"]
        if arg == "namespace":
            return [world.ns_a, world.ns_b, NOWHERE]
        if arg == "name":
            return names_by_kind.get(chosen.get("kind"), ["nosuchname"]) if "kind" in rule.arguments else all_names
        if arg == "run_id":
            return run_ids
        if arg == "user_id":
            return user_ids
        if arg == "grant_id":
            return list(grant_ids) + [10**9]
        converter = rule._converters[arg]
        if isinstance(converter, AnyConverter):
            return sorted(converter.items)
        if isinstance(converter, (IntegerConverter, FloatConverter)):
            return sorted(set(user_ids + run_ids))
        return [world.ns_a, world.ns_b, NOWHERE] + all_names

    combos = [{}]
    for arg in sorted(rule.arguments, key=lambda a: (a == "name", a)):
        combos = [{**c, arg: value} for c in combos for value in candidates(arg, c)]
    return combos


def query_variants(rule, world) -> list[tuple[dict, list[dict]]]:
    """(query string, header variants) pairs: for routes without URL arguments the whole
    vocabulary of request.args; every htmx header variant with no query and with each ``ns``."""
    full, short = header_variants(), [{}, {"HX-Request": "true"}]
    by_namespace = [{"ns": ns} for ns in (world.ns_a, world.ns_b, NOWHERE)]
    if rule.arguments:
        return [({}, full)] + ([] if "namespace" in rule.arguments else [(q, short) for q in by_namespace])
    a_pod, b_pod = world.obj(world.ns_a, "pods"), world.obj(world.ns_b, "pods")
    results = [r[0] for r in world.results.values()] + ["resultname-nonexistent", "../secrets"]
    subjects = [(kind, ns, name) for _, kind, ns, name in world.results.values()]
    subjects += [("Pod", world.ns_a, b_pod.name), ("Pod", world.ns_b, a_pod.name), ("Pod", NOWHERE, b_pod.name)]
    others = ([{"result": r, "mode": m} for r in results for m in MODES]
              + [{"kind": k, "namespace": ns, "name": n} for k, ns, n in subjects]
              + [{"q": b_pod.name}, {"q": world.obj(world.ns_b, "configmaps").marker}, {"page": "2"},
                 {"ns": world.ns_b, "kind": "Pod"}, {"sort": "name", "desc": "1"}, {"cursor": "bm90LWEtY3Vyc29y"}])
    return [({}, full)] + [(q, full) for q in by_namespace] + [(q, short) for q in others]


def post_forms(endpoint, world) -> list[dict]:
    """Forms for state-changing routes: a plan for every finding; escalation attempts elsewhere."""
    if endpoint == "plans.create":
        return [{"result": r[0], "mode": m, "context": ""} for r in world.results.values() for m in MODES]
    return [{"namespace": world.ns_b, "kinds": list(KIND_NAMES), "username": token("intruder"),
             "password": PASSWORD, "password_confirm": PASSWORD, "is_admin": "on",
             "result": world.results["b_pod"][0], "mode": "remediation", "context": ""}]


def sweep_plan(app, world, people, runs):
    """Every request of the sweep, GETs first (a POST may stop a run the GETs stream)."""
    with app.app_context():
        grant_ids = db.session.scalars(db.select(Grant.id)).all()
    gets, posts = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) in SKIPPED:
                continue
            for args in path_arguments(rule, world, people, runs, grant_ids):
                built = rule.build(args, append_unknown=False)
                if built is None:
                    continue
                path = built[1]
                if method == "GET":
                    for query, headers in query_variants(rule, world):
                        gets += [Request(rule.endpoint, method, path, query, header) for header in headers]
                else:
                    for form, htmx in itertools.product(post_forms(rule.endpoint, world), (False, True)):
                        posts.append(Request(rule.endpoint, method, path, {},
                                             {"HX-Request": "true"} if htmx else {}, form))
    return gets + posts


# -- the sweep ------------------------------------------------------------------------------


@dataclass
class Finding:
    who: str
    request: Request
    status: int
    detail: str

    def __str__(self):
        return f"[{self.who}] {self.request.describe()} -> {self.status}: {self.detail}"


class Sweep:
    def __init__(self, app, world, people, runs):
        self.world, self.people, self.runs = world, people, runs
        # A bug must answer 500 as in production (and be counted), not stop the sweep.
        app.config["PROPAGATE_EXCEPTIONS"] = False
        self.exception = None
        got_request_exception.connect(self._remember_exception, app)
        self.run_by_id = {r.run_id: r for r in runs}
        self.counts = Counter()
        self.statuses = Counter()
        self.candidates = []  # (person, request, status, {token: where}) before findings are applied
        self.server_errors, self.refusals = [], []

    def _remember_exception(self, sender, exception, **extra):
        self.exception = exception

    def send(self, person, req: Request):
        headers = dict(req.headers)
        form = None
        if req.method != "GET":
            token_ = person.client.csrf_token()
            if headers.get("HX-Request"):
                headers["X-CSRFToken"] = token_
                form = dict(req.form or {})
            else:
                form = {**(req.form or {}), "csrf_token": token_}
        self.exception = None
        response = person.client.open(req.path, method=req.method, query_string=req.query, headers=headers,
                                      data=form)
        body = response.get_data(as_text=True)
        response.close()
        self.counts[person.name] += 1
        self.statuses[response.status_code // 100 * 100] += 1
        return response, body

    def check(self, person, req, response, body):
        status = response.status_code
        if status >= 500:
            cause = (f"{type(self.exception).__name__}: {self.exception}" if self.exception
                     else body[:300].replace("\n", " "))
            self.server_errors.append(Finding(person.name, req, status, cause))
        seen, found = self.forbidden_in(person, req, response, body)
        if found:
            self.candidates.append((person, req, status, found, seen))
        self.check_refusal(person, req, status)

    @staticmethod
    def forbidden_in(person, req, response, body):
        """(what the response showed, the forbidden tokens in it that the request did not carry)."""
        seen = body + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        echoed = req.text()
        return seen, {t for t in person.forbidden if t in seen and t not in echoed}

    def check_refusal(self, person, req, status):
        """Statuses the access rules promise, for the routes they name."""
        signed_out = person.user_id is None
        refused = (302, 401) if signed_out else (403, 404)
        endpoint, parts = req.endpoint, req.path.strip("/").split("/")
        expect = None
        if endpoint.startswith("admin.") or endpoint == "plans.prompt":
            expect = None if person.admin else "refused"
        elif endpoint in ("plans.stream", "plans.stop", "plans.show"):
            run = self.run_by_id.get(int(parts[2]))
            mine = run is not None and run.owner == person.name
            visible = run is not None and run.readable_by(person)
            allowed = {"plans.stream": mine and visible, "plans.stop": mine, "plans.show": visible}[endpoint]
            expect = None if allowed else "refused"
        elif endpoint == "resources.detail":
            kind, ns = parts[1], parts[2]
            expect = None if get_kind(kind) and person.allows(ns, kind) else "refused"
        elif endpoint == "resources.index":
            kind, ns = parts[1], req.query.get("ns")
            granted = any(kind in kinds for kinds in person.grants.values()) or person.admin
            expect = None if get_kind(kind) and granted and (not ns or person.allows(ns, kind)) else "refused"
        if signed_out and expect is None and endpoint not in ("auth.login", "health.healthz", "health.readyz",
                                                              "oidc.login", "oidc.callback", "static"):
            expect = "refused"
        if expect == "refused" and status not in refused:
            self.refusals.append(Finding(person.name, req, status, f"expected one of {refused}"))

    def leaks(self, allowed_for):
        """Candidates that remain leaks once what findings may show is taken into account; the
        names let through are counted per (person, what, endpoint) in ``self.let_through``."""
        out = []
        self.let_through = Counter()
        for person, req, status, found, seen in self.candidates:
            real = {t for t in found if t not in allowed_for(person)}
            for t in found - real:
                self.let_through[(person.name, person.forbidden[t], req.endpoint)] += 1
            for t in sorted(real):
                at = seen.find(t)
                context = seen[max(0, at - 80):at + len(t) + 80].replace("\n", " ")
                out.append(Finding(person.name, req, status, f"{person.forbidden[t]} ({t}) in …{context}…"))
        return out


def _positive_controls(sweep, world, people, runs):
    """The sweep can only fail if the grants work: each user sees what they were granted."""
    a, b = world.ns_a, world.ns_b
    u1_run = next(r for r in runs if r.owner == "u1" and r.namespace == a and not r.tokens)
    checks = [
        ("u1", f"/resources/configmaps/{a}/{world.obj(a, 'configmaps').name}", world.obj(a, "configmaps").marker),
        ("u1", f"/resources/pods/{a}/{world.obj(a, 'pods').name}", world.obj(a, "events").marker),
        ("u1", f"/resources/secrets/{a}/{world.obj(a, 'secrets').name}", world.obj(a, "secrets").marker),
        ("u2", f"/resources/services/{a}/{world.obj(a, 'services').name}", world.obj(a, "services").marker),
        ("u1", "/", world.results["a_pod"][0]),
        ("u2", "/", world.obj(a, "pods").name),  # a finding in a granted namespace, any kind
        ("u1", f"/plans/runs/{u1_run.run_id}/stream", "event: done"),
        ("admin", f"/resources/configmaps/{b}/{world.obj(b, 'configmaps').name}", world.obj(b, "configmaps").marker),
    ]
    failures = []
    for who, path, expected in checks:
        req = Request("control", "GET", path, {}, {})
        response, body = sweep.send(people[who], req)
        if response.status_code != 200 or expected not in body:
            failures.append(f"[{who}] GET {path} -> {response.status_code}, {expected!r} "
                            f"{'missing' if expected not in body else 'present'}: {body[:300]}")
        if who != "admin":
            sweep.check(people[who], req, response, body)
        else:  # what the administrator sees of B would be a leak to every other user
            for other in ("u1", "u2", "u3"):
                if expected not in sweep.forbidden_in(people[other], req, response, body)[1]:
                    failures.append(f"the leak check misses {expected!r} for {other}")
    assert not failures, "positive controls failed (the sweep would prove nothing):\n" + "\n".join(failures)


def _result_texts(kube, namespace) -> set[str]:
    """What the Results about a namespace say now (name and spec), one string per Result."""
    return {f"{r.get('metadata', {}).get('name')} {r.get('spec')}" for r in results_about(kube, namespace)}


def test_no_route_shows_anything_outside_the_grants(app, world, cast, kube, capsys):
    people, runs = cast
    timer = Timer()
    sweep = Sweep(app, world, people, runs)
    finding_texts = set()  # what Results about A said at any point (K8sGPT adds its own as it goes)
    for person in people.values():
        person.forbidden = forbidden_tokens(world, runs, person)
    with timer.phase("controls"):
        finding_texts |= _result_texts(kube, world.ns_a)
        _positive_controls(sweep, world, people, runs)
    with timer.phase("plan"):
        plan = sweep_plan(app, world, people, runs)
    with timer.phase("sweep"):
        for who in ("u1", "u2", "u3", "anonymous"):
            person = people[who]
            for number, req in enumerate(plan):
                response, body = sweep.send(person, req)
                sweep.check(person, req, response, body)
                if number % 500 == 0:
                    finding_texts |= _result_texts(kube, world.ns_a)
    finding_texts |= _result_texts(kube, world.ns_a)

    def allowed_for(person):
        # u2 may read the names that Results about A mention (the dashboard's namespace rule).
        names = {obj.name for obj in world.objects[world.ns_a].values()
                 if any(obj.name in text for text in finding_texts)}
        return names if person.allows(world.ns_a) else set()

    leaks = sweep.leaks(allowed_for)
    let_through = sum(sweep.let_through.values())
    with app.app_context():
        admins = sorted(u.username for u in db.session.scalars(db.select(User).where(User.is_admin)))
        users = sorted(u.username for u in db.session.scalars(db.select(User)))
        grants = sorted((g.user.username, g.namespace, g.kinds_csv) for g in db.session.scalars(db.select(Grant)))
    total = sum(sweep.counts.values())
    summary = (f"isolation sweep: {total} requests ({dict(sweep.counts)}; {len(plan)} per person over "
               f"{len({r.endpoint for r in plan})} endpoints), statuses {dict(sorted(sweep.statuses.items()))}, "
               f"{len(leaks)} leaks ({let_through} names shown as findings of a granted namespace let through), "
               f"{len(sweep.server_errors)} 5xx, {len(sweep.refusals)} wrong refusals; "
               f"{timer.summary()}")
    problems = [*map(str, leaks), *map(str, sweep.server_errors), *map(str, sweep.refusals)]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(summary + "\n" + "".join(f"{line}\n" for line in problems)
                      + "\nlet through (a finding of a granted namespace names it):\n"
                      + "".join(f"  [{who}] {what} on {endpoint}: {n}\n"
                                for (who, what, endpoint), n in sorted(sweep.let_through.items())))
    with capsys.disabled():
        sys.stderr.write(f"\n{summary}\n(every finding: {REPORT.relative_to(ROOT)})\n")

    assert total >= MIN_REQUESTS, summary
    assert admins == ["admin"], f"a non-administrator became one: {admins}"
    assert users == ["admin", "u1", "u2", "u3"], f"users were created: {users}"
    assert grants == [("u1", world.ns_a, ",".join(sorted(KIND_NAMES))), ("u2", world.ns_a, "services")], grants
    assert not problems, f"{summary}\n" + "\n".join(problems[:200])
