"""Resource tabs and detail views against the lab: grants decide every row, 404 hides the rest."""

import base64

import pytest
from flask import current_app

from app.access import Access, access_for
from app.cluster.gateway import Forbidden, gateway
from app.cluster.user_reader import UserReader
from app.extensions import db
from app.kinds import get_kind
from app.models import User
from app.web.current import ROW_CACHE_KEY
from app.resources.listing import Query, list_page
from tests.dashboard.view_fixtures import SECRET_VALUE, XSS, page_text


def _reader(user, checked=True):
    """The app's reader for `user`; unchecked, the app's own grant check is waived (an
    administrator's Access) so what is tested is the API server's answer to the user."""
    return UserReader(gateway(), user, access_for(user) if checked else Access(admin=True),
                      current_app.extensions[ROW_CACHE_KEY])


def test_pods_tab_lists_granted_namespace_only(world, dev_a):
    response = dev_a.get("/resources/pods")
    text = page_text(response)
    assert response.status_code == 200
    assert all(f">web-{i}<" in text for i in range(3))
    assert world["ns_a"] in text and world["ns_b"] not in text


def test_tabs_and_switcher_come_from_grants(world, dev_a):
    text = page_text(dev_a.get("/resources/pods"))
    for granted in ("Pods", "ConfigMaps", "Secrets", "Events", "Deployments", "Services"):
        assert f">{granted}</a>" in text
    assert ">Jobs</a>" not in text and 'value="cj"' not in text
    assert 'value="po"' in text and 'value="deploy"' in text


@pytest.mark.parametrize("url", [
    "/resources/pods?ns={b}",
    "/resources/pods/{b}/web-0",
    "/resources/configmaps/{b}/settings",
    "/resources/secrets/{b}/db-credentials",
    "/resources/pods/{a}/does-not-exist",
    "/resources/jobs",
    "/resources/jobs/{a}/anything",
    "/resources/nodes",
    "/resources/widgets/{a}/web-0",
])
def test_hidden_or_missing_objects_are_404(world, dev_a, url):
    response = dev_a.get(url.format(a=world["ns_a"], b=world["ns_b"]))
    text = page_text(response)
    assert response.status_code == 404
    assert world["ns_b"] not in text or "{b}" not in url  # the page does not echo B's objects
    assert "only-in-" not in text and "Traceback" not in text


def test_detail_view_shows_yaml_events_and_issues(world, dev_a):
    response = dev_a.get(f"/resources/pods/{world['ns_a']}/web-0")
    text = page_text(response)
    assert response.status_code == 200
    assert "kind: Pod" in text and "managedFields" not in text
    assert f"Back-off in {world['ns_a']}" in text  # the event about this pod
    assert world["ns_b"] not in text
    assert "on the dashboard" in text  # the K8sGPT finding about web-0
    assert XSS not in text and "<script>alert" not in text and "&lt;script&gt;" in text


def test_secret_values_never_reach_the_page(world, dev_a):
    listing = page_text(dev_a.get(f"/resources/secrets?ns={world['ns_a']}"))
    detail = page_text(dev_a.get(f"/resources/secrets/{world['ns_a']}/db-credentials"))
    assert "db-credentials" in listing and "db-credentials" in detail
    encoded = base64.b64encode(SECRET_VALUE.encode()).decode()
    for text in (listing, detail):
        assert SECRET_VALUE not in text and encoded not in text


def test_configmap_with_html_renders_as_text(world, dev_a):
    text = page_text(dev_a.get(f"/resources/configmaps/{world['ns_a']}/settings"))
    assert "<script>alert" not in text and "&lt;script&gt;" in text


def test_events_tab_shows_only_granted_events(world, dev_a):
    text = page_text(dev_a.get("/resources/events"))
    assert f"Back-off in {world['ns_a']}" in text
    assert f"Back-off in {world['ns_b']}" not in text
    assert "<script>alert" not in text


@pytest.mark.parametrize("query, shown, hidden", [
    ("q=web-1", ["web-1"], ["web-0", "web-2"]),
    ("q=-l+app%3Dweb", ["web-0", "web-1", "web-2"], []),
    ("q=-l+app%3Dnone", [], ["web-0"]),
    ("q=nothing-matches", [], ["web-0"]),
])
def test_filter_box(world, dev_a, query, shown, hidden):
    text = page_text(dev_a.get(f"/resources/pods?ns={world['ns_a']}&{query}"))
    for name in shown:
        assert f">{name}<" in text
    for name in hidden:
        assert f">{name}<" not in text
    if not shown:
        assert "Nothing matches" in text


def test_sortable_columns(world, dev_a):
    text = page_text(dev_a.get(f"/resources/pods?ns={world['ns_a']}&sort=name&desc=1"))
    assert text.index(">web-2<") < text.index(">web-1<") < text.index(">web-0<")
    assert 'aria-sort="descending"' in text


def test_pages_follow_each_other_without_gaps(world, app, dev_a):
    with app.test_request_context():
        user = db.session.scalar(db.select(User).where(User.username == "dev-a"))
        reader = _reader(user)
        pods = get_kind("pods")
        seen, cursor = [], ""
        for _ in range(5):
            page = list_page(reader, pods, [world["ns_a"]], Query(cursor=cursor), page_size=2)
            seen.append([row.name for row in page.rows])
            cursor = page.next_cursor
            if not cursor:
                break
        filtered = list_page(reader, pods, [world["ns_a"]], Query(text="web-2"), page_size=1)
        # The app refuses dev-a's reads of B before asking, and the API server backs it.
        with pytest.raises(Forbidden):
            reader.list(pods, world["ns_b"])
        with pytest.raises(Forbidden):
            _reader(user, checked=False).list(pods, world["ns_b"])
    assert seen == [["web-0", "web-1"], ["web-2"]]
    assert [row.name for row in filtered.rows] == ["web-2"] and filtered.next_cursor is None


def test_a_k9s_alias_in_the_url_opens_its_kind(world, dev_a):
    response = dev_a.get(f"/resources/po?ns={world['ns_a']}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/resources/pods?ns={world['ns_a']}"
    assert dev_a.get("/resources/nope").status_code == 404


def test_table_fragment_for_htmx(world, dev_a):
    response = dev_a.get(f"/resources/pods?ns={world['ns_a']}&q=web",
                         headers={"HX-Request": "true", "HX-Target": "resource-table"})
    text = page_text(response)
    assert "<html" not in text and 'id="resource-table"' in text and ">web-0<" in text
    assert "HX-Request" in response.headers["Vary"]


def test_admin_lists_every_namespace(world, admin):
    text = page_text(admin.get("/resources/pods?q=web"))
    assert world["ns_a"] in text and world["ns_b"] in text


def test_cached_listing_is_never_shared_between_users(world, app, make_user, login):
    """Listed rows are cached for a few seconds, per identity: a user with other grants
    asking the very same question gets the API server's answer for *them*, not the cache."""
    both_id = make_user("dev-both", {world["ns_a"]: ("pods",), world["ns_b"]: ("pods",)})
    b_id = make_user("dev-b-only", {world["ns_b"]: ("pods",)})
    pods = get_kind("pods")
    query = Query(text="web")
    with app.test_request_context():
        both = _reader(db.session.get(User, both_id), checked=False)
        only_b = _reader(db.session.get(User, b_id), checked=False)
        assert both.row_cache is only_b.row_cache is not None  # one cache per app
        first = list_page(both, pods, [world["ns_a"]], query)
        assert {row.namespace for row in first.rows} == {world["ns_a"]}
        assert len(both.row_cache) > 0
        # Same kind, namespace and filter within the TTL: still refused for the other user.
        with pytest.raises(Forbidden):
            list_page(only_b, pods, [world["ns_a"]], query)
        own = list_page(only_b, pods, [world["ns_b"]], query)
        assert own.rows and {row.namespace for row in own.rows} == {world["ns_b"]}
        again = list_page(both, pods, [world["ns_a"]], query)
        assert [r.name for r in again.rows] == [r.name for r in first.rows]

    client_both, client_b = login("dev-both"), login("dev-b-only")
    text_both = page_text(client_both.get("/resources/pods?q=web"))
    assert world["ns_a"] in text_both and world["ns_b"] in text_both
    text_b = page_text(client_b.get("/resources/pods?q=web"))
    assert world["ns_b"] in text_b and world["ns_a"] not in text_b
    assert client_b.get(f"/resources/pods?ns={world['ns_a']}&q=web").status_code == 404


def test_row_cache_expires_and_stays_bounded():
    from app.resources.listing import Row, RowCache

    rows = tuple(Row("ns", f"p{i}", {}) for i in range(3))
    cache = RowCache(ttl=60, max_rows=5)
    cache.put(("u1", "pods", "ns"), rows, None)
    cache.put(("u2", "pods", "ns"), rows, "next")
    assert cache.get(("u1", "pods", "ns")) is None  # evicted: 6 rows > 5, oldest first
    assert cache.get(("u2", "pods", "ns")) == (rows, "next")
    now = [100.0]
    ticking = RowCache(ttl=5, max_rows=50, clock=lambda: now[0])
    ticking.put(("u1", "pods", "ns"), rows, None)
    now[0] += 4
    assert ticking.get(("u1", "pods", "ns")) == (rows, None)
    now[0] += 2
    assert ticking.get(("u1", "pods", "ns")) is None and len(ticking) == 0
    off = RowCache(ttl=0)
    off.put(("u1", "pods", "ns"), rows, None)
    assert len(off) == 0
