"""The cluster gateway without a cluster: configuration and unavailability."""

import pytest

from app.cluster.gateway import Gateway, Unavailable, user_subject_name
from app.kinds import get_kind


def test_missing_kubeconfig_is_unavailable(tmp_path):
    gw = Gateway(kubeconfig=str(tmp_path / "nope"))
    with pytest.raises(Unavailable, match="does not exist"):
        gw.list_namespaces()


def test_unreachable_api_server_is_unavailable_since_the_first_failure(unreachable_kubeconfig):
    gw = Gateway(kubeconfig=unreachable_kubeconfig, timeout=(1, 1))
    try:
        with pytest.raises(Unavailable) as first:
            gw.list_namespaces()
        with pytest.raises(Unavailable) as second:
            gw.list_results()
        assert first.value.since is not None and second.value.since == first.value.since
        assert "cannot reach the API server" in first.value.message
    finally:
        gw.close()


def test_kind_paths_come_from_the_registry():
    assert get_kind("nodes") is None
    assert get_kind("deployments").object_path("team-a", "web") == \
        "/apis/apps/v1/namespaces/team-a/deployments/web"


def test_users_are_impersonated_as_serviceaccount_shaped_names():
    assert user_subject_name(7) == "system:serviceaccount:cluster-codex-users:user-7"


def test_impersonating_client_carries_the_headers(unreachable_kubeconfig):
    class Someone:
        id = 42

    gw = Gateway(kubeconfig=unreachable_kubeconfig)
    try:
        headers = gw.as_user(Someone()).default_headers
        assert headers["Impersonate-User"] == "system:serviceaccount:cluster-codex-users:user-42"
        assert headers["Impersonate-Group"] == "cluster-codex:users"
        assert gw.as_user(Someone()) is gw.as_user(Someone())  # cached
        assert "Impersonate-User" not in gw.as_app().default_headers
        gw.impersonation = False
        assert gw.as_user(Someone()) is gw.as_app()
    finally:
        gw.close()
