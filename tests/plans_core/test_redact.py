"""Secrets never reach a model or a page: text, objects and K8sGPT's sensitive values."""

import pytest
import yaml

from app.findings import sensitive_pairs
from app.redact import REDACTED, mask_sensitive, redact_object, redact_text

LOG = """\
2026-11-26T11:09:00Z INFO  starting checkout 2.3.0 (commit 3f1c2d9)
2026-11-26T11:09:00Z DEBUG db connect postgres://checkout:Pl4nted-DB-pass@db.team-a:5432/orders
2026-11-26T11:09:01Z DEBUG request headers {"Authorization": "Bearer abcdef0123456789.planted", "X-Api-Key": "planted-api-key-42"}
2026-11-26T11:09:01Z DEBUG env DB_PASSWORD=planted-env-pass AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY
2026-11-26T11:09:02Z DEBUG jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.Zm9vYmFyYmF6cGxhbnRlZHNpZ25hdHVyZQ
2026-11-26T11:09:03Z ERROR login failed for user=admin password: "planted quoted pass"
2026-11-26T11:09:04Z INFO  pulled ghcr.io/acme/checkout@sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31
2026-11-26T11:09:05Z INFO  aws key id AKIAIOSFODNN7PLANTED and github ghp_PlantedGithubToken000000000000000000x
"""

PLANTED = ["Pl4nted-DB-pass", "abcdef0123456789.planted", "planted-api-key-42", "planted-env-pass",
           "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY", "eyJhbGciOiJIUzI1NiJ9", "planted quoted pass",
           "AKIAIOSFODNN7PLANTED", "ghp_PlantedGithubToken"]


def test_log_secrets_are_masked_and_the_rest_kept():
    clean = redact_text(LOG)
    for value in PLANTED:
        assert value not in clean
    assert "postgres://checkout:[REDACTED]@db.team-a:5432/orders" in clean
    assert "DB_PASSWORD=[REDACTED]" in clean
    assert 'password: "[REDACTED]"' in clean
    assert "starting checkout 2.3.0 (commit 3f1c2d9)" in clean
    assert "sha256:0d17b565c37bcbd895e9d92315a05c1c3c9a29f762b011a10c54a66cd53c9b31" in clean
    assert "user=admin" in clean


def test_pem_blocks_are_masked():
    text = "tls.key: |\n  -----BEGIN EC PRIVATE KEY-----\n  MHcCAQEEIPlanted\n  -----END EC PRIVATE KEY-----\nnext: 1"
    clean = redact_text(text)
    assert "MHcCAQEEIPlanted" not in clean
    assert "-----BEGIN EC PRIVATE KEY----- [REDACTED] -----END EC PRIVATE KEY-----" in clean
    assert clean.endswith("next: 1")


@pytest.mark.parametrize("text", [
    "secretName: db-credentials",
    "automountServiceAccountToken: false",
    "tokenExpirationSeconds: 3600",
    "serviceAccountName: checkout",
    "key: password",
    "Back-off restarting failed container checkout in pod checkout-7d9f8c6b5-x2x9q",
    "path /var/lib/kubelet/pods/volumes/kubernetes.io~secret/default-token",
])
def test_references_to_secrets_are_not_secrets(text):
    assert redact_text(text) == text


def test_secret_objects_lose_every_value():
    secret = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
              "metadata": {"name": "checkout-db", "namespace": "team-a", "annotations": {
                  "kubectl.kubernetes.io/last-applied-configuration":
                      '{"apiVersion":"v1","data":{"password":"cGxhbnRlZA=="},"kind":"Secret"}'}},
              "data": {"password": "cGxhbnRlZA==", "username": "Y2hlY2tvdXQ="},
              "stringData": {"url": "postgres://u:planted@db/x"}}
    clean = redact_object(secret)
    dumped = yaml.safe_dump(clean)
    assert "cGxhbnRlZA==" not in dumped and "planted" not in dumped and "Y2hlY2tvdXQ=" not in dumped
    assert clean["data"] == {"password": REDACTED, "username": REDACTED}
    assert clean["stringData"] == {"url": REDACTED}
    assert secret["data"]["password"] == "cGxhbnRlZA==", "the original object is left alone"


def test_secrets_inside_a_list_are_stripped():
    listing = {"kind": "List", "items": [{"kind": "Secret", "metadata": {"name": "a"}, "data": {"k": "dmFsdWU="}}]}
    assert redact_object(listing)["items"][0]["data"] == {"k": REDACTED}


def test_env_values_from_secrets_and_secret_names_are_dropped():
    pod = {"kind": "Pod", "metadata": {"name": "checkout"}, "spec": {"containers": [{"name": "checkout", "env": [
        {"name": "DB_PASSWORD", "value": "resolved-planted", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
        {"name": "STRIPE_API_KEY", "value": "literal-planted"},
        {"name": "LOG_LEVEL", "value": "debug"},
        {"name": "GREETING", "value": "token: planted-in-text"}]}]}}
    env = redact_object(pod)["spec"]["containers"][0]["env"]
    assert env[0] == {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}
    assert env[1]["value"] == REDACTED
    assert env[2]["value"] == "debug"
    assert env[3]["value"] == "token: [REDACTED]"


def test_configmap_properties_are_redacted_line_by_line():
    cm = {"kind": "ConfigMap", "metadata": {"name": "app"}, "data": {
        "application.properties": "server.port=8080\nspring.datasource.password=planted-prop\n",
        "SMTP_PASSWORD": "planted-direct"}}
    data = redact_object(cm)["data"]
    assert data["application.properties"] == "server.port=8080\nspring.datasource.password=[REDACTED]\n"
    assert data["SMTP_PASSWORD"] == REDACTED


def test_k8sgpt_sensitive_values_are_replaced_by_their_masked_form():
    errors = [{"text": "Service has no endpoints, expected label app=payments-api",
               "sensitive": [{"unmasked": "app", "masked": "YXBw"},
                             {"unmasked": "payments-api", "masked": "cGF5bWVudHMtYXBp"}]}]
    pairs = sensitive_pairs(errors)
    assert mask_sensitive(errors[0]["text"], pairs) == "Service has no endpoints, expected label YXBw=cGF5bWVudHMtYXBp"


@pytest.mark.parametrize("text, masked", [
    # K8sGPT's util.ReplaceIfMatch: every occurrence a word boundary follows, none needed before.
    ("the application app-v2 uses app", "the application YXBw-v2 uses YXBw"),
    ("pod web-1_team-a(uid-1) of myapp", "pod web-1_dGVhbS1h(uid-1) of myYXBw"),
    # Literal, not a regexp: the "." of a value matches only a ".".
    ("host a.b.example and aXb.example", "host Lg==.example and aXb.example"),
])
def test_sensitive_values_are_masked_where_k8sgpt_masks_them(text, masked):
    pairs = [("app", "YXBw"), ("team-a", "dGVhbS1h"), ("a.b", "Lg==")]
    assert mask_sensitive(text, pairs) == masked


def test_a_value_inside_another_is_masked_whole_and_masks_are_not_masked_again():
    pairs = [("team", "YXBw"), ("team-web", "dGVhbS13ZWI"), ("YXBw", "bm90LWFnYWlu")]
    assert mask_sensitive("team-web of team", pairs) == "dGVhbS13ZWI of YXBw"
