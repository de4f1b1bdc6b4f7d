"""htmx rendering helper, and that the migrations build exactly the models' schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from app.web.htmx import is_htmx, render


def test_render_gives_page_or_block(app):
    with app.test_request_context("/", headers={"HX-Request": "true"}):
        assert is_htmx()
        fragment = render("errors/error.html", block="error", title="T", message="M",
                          status_code=418, since=None)
        assert b"<html" not in fragment.data and b"M" in fragment.data
        assert "HX-Request" in fragment.headers["Vary"]
    with app.test_request_context("/"):
        assert not is_htmx()
        page = render("errors/error.html", block="error", title="T", message="M",
                      status_code=418, since=None)
        assert b"<html" in page.data and "HX-Request" in page.headers["Vary"]


def test_boosted_and_history_restore_requests_want_pages(app):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}):
        with app.test_request_context("/", headers={"HX-Request": "true", **extra}):
            assert not is_htmx()


def test_pages_carry_the_csrf_header_for_htmx_and_vendored_scripts(client):
    page = client.get("/login").get_data(as_text=True)
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    assert "vendor/htmx.org@2" in page and "htmx-ext-sse@2" in page
    assert "response-targets" in page
    with client.get("/static/vendor/htmx.org@2.0.11/htmx.min.js") as script:
        assert script.status_code == 200


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []
