"""Waiting for test namespaces in the lab to be usable."""

from __future__ import annotations

import time

import pytest

from app.cluster.gateway import NotFound


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
