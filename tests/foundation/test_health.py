"""Liveness and readiness."""

from app import create_app
from app.config import TestConfig


def test_healthz_needs_nothing(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_reports_the_unreachable_cluster(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["cluster"].startswith("unavailable: cannot reach the API server")


def test_readyz_reports_an_unusable_database(tmp_path, unreachable_kubeconfig):
    class Broken(TestConfig):
        SQLALCHEMY_DATABASE_URI = f"sqlite:///{tmp_path}/missing-dir/codex.db"
        CODEX_AUTO_MIGRATE = False
        CODEX_KUBECONFIG = unreachable_kubeconfig

    app = create_app(Broken)
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"].startswith("unavailable: OperationalError")
    from app.extensions import db

    with app.app_context():
        db.engine.dispose()
