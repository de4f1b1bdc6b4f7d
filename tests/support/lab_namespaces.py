"""Test-made namespaces in the lab: created with a ``codex-test`` label, usable once their
default ServiceAccount exists, deleted (with the Results a test made about them) at the end."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from app.cluster.gateway import NotFound
from tests.support.lab_kube import RESULTS


@contextmanager
def lab_namespaces(kube, names, labels, results_selector=None):
    """Create the namespaces labelled `labels` and wait until pods may be made in them; at exit
    delete them, and the Results matching `results_selector` (default: the same labels)."""
    selector = results_selector or ",".join(f"{key}={value}" for key, value in labels.items())
    try:
        for ns in names:
            kube.create("/api/v1/namespaces", {"metadata": {"name": ns, "labels": dict(labels)}})
        wait_for_default_service_account(kube, names)
        yield names
    finally:
        kube.delete(RESULTS, labelSelector=selector)
        for ns in names:
            kube.delete(f"/api/v1/namespaces/{ns}")


def wait_for_default_service_account(kube, namespaces, timeout=60):
    """Block until each namespace has its `default` ServiceAccount (pods are refused before)."""
    deadline = time.monotonic() + timeout
    for ns in namespaces:
        while True:
            try:
                kube.get(f"/api/v1/namespaces/{ns}/serviceaccounts/default")
                break
            except NotFound:
                if time.monotonic() > deadline:
                    pytest.fail(f"no default ServiceAccount in {ns} after {timeout}s")
                time.sleep(0.5)
