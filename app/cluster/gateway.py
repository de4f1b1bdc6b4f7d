"""The one wrapper over the official kubernetes client.

Configuration is resolved once, lazily (never at import). Every request carries a
default timeout, and failures become three small domain exceptions. Responses
are plain JSON dicts exactly as the API server sends them (camelCase keys), which
is both faster than the generated models and what templates want.

Reads of workload data go through `as_user(user)`: an ApiClient that impersonates
the user's ServiceAccount-shaped name, so the API server's RBAC backs every check.
"""

import json
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from pathlib import Path

import urllib3
from flask import current_app
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.config.config_exception import ConfigException

from app.cluster import paths
from app.cluster.errors import (ClusterError, Conflict, Forbidden, Gone, InvalidName,  # noqa: F401 - re-exported
                                NotFound, Unavailable)
from app.config import Config, default_kubeconfig
from app.redact import strip_secret_values

EXTENSION_KEY = "codex_gateway"

RESULTS_PATH = "/apis/core.k8sgpt.ai/v1alpha1"


def user_subject_name(user_id, users_namespace=Config.CODEX_USERS_NAMESPACE):
    """The ServiceAccount-shaped username the API server sees for an app user."""
    return f"system:serviceaccount:{users_namespace}:user-{user_id}"


class Gateway:
    """Cluster access for one app: cached clients, default timeouts, domain errors."""

    # Keyword defaults are Config's: a gateway built by hand (tests, CLI) behaves like the app's.
    def __init__(self, kubeconfig=None, context=None, timeout=Config.CODEX_KUBE_TIMEOUT,
                 impersonation=Config.CODEX_IMPERSONATION, users_namespace=Config.CODEX_USERS_NAMESPACE,
                 users_group=Config.CODEX_USERS_GROUP, k8sgpt_namespace=Config.CODEX_K8SGPT_NAMESPACE,
                 max_user_clients=256):
        self.kubeconfig = kubeconfig
        self.context = context
        self.timeout = timeout
        self.impersonation = impersonation
        self.users_namespace = users_namespace
        self.users_group = users_group
        self.k8sgpt_namespace = k8sgpt_namespace
        self._lock = threading.Lock()
        self._configuration = None
        self._app_client = None
        self._user_clients = OrderedDict()
        self._max_user_clients = max_user_clients
        self.unavailable_since = None

    @classmethod
    def from_config(cls, config):
        return cls(
            kubeconfig=config["CODEX_KUBECONFIG"],
            context=config["CODEX_KUBE_CONTEXT"],
            timeout=tuple(config["CODEX_KUBE_TIMEOUT"]),
            impersonation=config["CODEX_IMPERSONATION"],
            users_namespace=config["CODEX_USERS_NAMESPACE"],
            users_group=config["CODEX_USERS_GROUP"],
            k8sgpt_namespace=config["CODEX_K8SGPT_NAMESPACE"],
        )

    # -- clients ---------------------------------------------------------

    def _load_configuration(self):
        configuration = k8s.Configuration()
        path = self.kubeconfig or default_kubeconfig()
        try:
            if path:
                if not Path(path).exists():
                    raise Unavailable(f"kubeconfig {path} does not exist", since=self._mark_down())
                k8s_config.load_kube_config(config_file=path, context=self.context,
                                            client_configuration=configuration)
            else:
                try:
                    k8s_config.load_incluster_config(client_configuration=configuration)
                except ConfigException:
                    k8s_config.load_kube_config(context=self.context,
                                                client_configuration=configuration)
        except (ConfigException, OSError) as exc:
            raise Unavailable(f"no usable cluster configuration: {exc}", since=self._mark_down())
        # Fail fast: the generated client retries (and waits forever) by default.
        configuration.retries = urllib3.Retry(total=0, connect=0, read=0, redirect=0, status=0)
        return configuration

    @property
    def configuration(self):
        with self._lock:
            if self._configuration is None:
                self._configuration = self._load_configuration()
            return self._configuration

    def as_app(self):
        """The ApiClient acting as the app's own identity."""
        configuration = self.configuration
        with self._lock:
            if self._app_client is None:
                self._app_client = k8s.ApiClient(configuration)
            return self._app_client

    def as_user(self, user):
        """An ApiClient impersonating the user (the app's identity when impersonation is off)."""
        if not self.impersonation:
            return self.as_app()
        configuration = self.configuration
        with self._lock:
            api = self._user_clients.get(user.id)
            if api is None:
                api = k8s.ApiClient(configuration)
                api.set_default_header("Impersonate-User",
                                       user_subject_name(user.id, self.users_namespace))
                api.set_default_header("Impersonate-Group", self.users_group)
                self._user_clients[user.id] = api
                if len(self._user_clients) > self._max_user_clients:
                    _, oldest = self._user_clients.popitem(last=False)
                    oldest.close()
            else:
                self._user_clients.move_to_end(user.id)
            return api

    def close(self):
        """Close every cached connection pool."""
        with self._lock:
            clients = list(self._user_clients.values())
            if self._app_client is not None:
                clients.append(self._app_client)
            self._user_clients.clear()
            self._app_client = None
        for api in clients:
            api.close()

    # -- raw requests ----------------------------------------------------

    def _mark_down(self):
        if self.unavailable_since is None:
            self.unavailable_since = datetime.now(timezone.utc)
        return self.unavailable_since

    def request(self, api, method, path, query=None, body=None, timeout=None, raw=False,
                accept="application/json"):
        """Send one request with `api` (as_app()/as_user()); JSON dict back, or bytes if raw."""
        paths.check_path(path)  # the last line of defence: no dot segments reach the wire
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = "application/json"
        query_list = [(k, v) for k, v in (query or {}).items() if v is not None]
        method, url, headers, body, _ = api.param_serialize(
            method, path, query_params=query_list, header_params=headers, body=body,
            auth_settings=["BearerToken"],
        )
        try:
            response = api.call_api(method, url, header_params=headers, body=body,
                                    _request_timeout=timeout or self.timeout)
            data = response.read()
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unavailable(f"cannot reach the API server: {_short(exc)}",
                              since=self._mark_down()) from None
        self._check_status(response.status, data)
        if raw:
            return data
        payload = json.loads(data) if data else {}
        if _is_secrets_path(path):
            _strip_secret_values(payload)
        return payload

    def _check_status(self, status, data):
        """Raise the domain error for an HTTP status; note that the API server answers."""
        if status >= 500:
            raise Unavailable(f"API server error {status}: {_message(data)}",
                              since=self._mark_down(), status=status)
        self.unavailable_since = None
        if status in (401, 403):
            raise Forbidden(_message(data), status=status)
        if status == 404:
            raise NotFound(_message(data), status=status)
        if status == 409:
            raise Conflict(_message(data), status=status)
        if status == 410:
            raise Gone(_message(data), status=status)
        if status >= 400:
            raise ClusterError(f"API server refused the request ({status}): {_message(data)}",
                               status=status)

    def get(self, api, path, **query):
        return self.request(api, "GET", path, query=query)

    def watch(self, api, path, resource_version, timeout_seconds=300):
        """Yield (type, object) of a watch on a collection from `resource_version` (bookmarks
        included); ends when the server ends the watch. Gone when the version is too old (list
        again), Unavailable when the API server cannot be reached."""
        paths.check_path(path)
        query = [("watch", "true"), ("resourceVersion", resource_version), ("allowWatchBookmarks", "true"),
                 ("timeoutSeconds", str(int(timeout_seconds)))]
        method, url, headers, _, _ = api.param_serialize("GET", path, query_params=query,
                                                         header_params={"Accept": "application/json"},
                                                         auth_settings=["BearerToken"])
        connect = self.timeout[0] if isinstance(self.timeout, tuple) else self.timeout
        try:
            response = api.call_api(method, url, header_params=headers, _request_timeout=(connect, timeout_seconds + 30))
            if response.status != 200:
                self._check_status(response.status, response.read())
            self.unavailable_since = None
            pending = b""
            for chunk in response.response.stream(16 * 1024, decode_content=True):
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    obj = event.get("object") or {}
                    if event.get("type") == "ERROR":
                        code = obj.get("code")
                        if code == 410:
                            raise Gone(obj.get("message") or "too old resource version", status=410)
                        raise ClusterError(f"the watch failed: {obj.get('message') or code}", status=code)
                    yield event.get("type"), obj
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise Unavailable(f"cannot reach the API server: {_short(exc)}", since=self._mark_down()) from None

    def results_path(self):
        return f"{RESULTS_PATH}/namespaces/{paths.namespace_segment(self.k8sgpt_namespace)}/results"

    def list_results_with_version(self):
        """(K8sGPT Results, the list's resourceVersion) as the app: where a watch starts."""
        data = self.get(self.as_app(), self.results_path())
        return data.get("items", []), (data.get("metadata") or {}).get("resourceVersion") or "0"

    def watch_results(self, resource_version, timeout_seconds=300):
        """Changes to the K8sGPT Results after `resource_version` (see watch)."""
        return self.watch(self.as_app(), self.results_path(), resource_version, timeout_seconds)

    # -- typed helpers ---------------------------------------------------

    def ping(self):
        """Check the API server answers the app's identity (raises Unavailable/Forbidden)."""
        self.get(self.as_app(), "/api/v1/namespaces", limit=1)

    def list_namespaces(self):
        """Names of all namespaces, sorted (as the app)."""
        data = self.get(self.as_app(), "/api/v1/namespaces")
        return sorted(item["metadata"]["name"] for item in data.get("items", []))

    def list_results(self, namespace=None):
        """K8sGPT Result objects (as the app) from the K8sGPT namespace."""
        namespace = paths.namespace_segment(namespace or self.k8sgpt_namespace)
        data = self.get(self.as_app(), f"{RESULTS_PATH}/namespaces/{namespace}/results")
        return data.get("items", [])

    def get_result(self, name):
        """One K8sGPT Result (as the app); InvalidName/NotFound when there is no such Result."""
        namespace = paths.namespace_segment(self.k8sgpt_namespace)
        return self.get(self.as_app(),
                        f"{RESULTS_PATH}/namespaces/{namespace}/results/{paths.name_segment(name)}")

    def list_k8sgpts(self, namespace=None):
        """K8sGPT objects (the operator's configuration, as the app) in the K8sGPT namespace."""
        namespace = paths.namespace_segment(namespace or self.k8sgpt_namespace)
        data = self.get(self.as_app(), f"{RESULTS_PATH}/namespaces/{namespace}/k8sgpts")
        return data.get("items", [])


def _is_secrets_path(path):
    """True for a path of the core `secrets` resource: /api/v1/secrets or
    /api/v1/namespaces/<ns>/secrets[/<name>] (a ConfigMap named "secrets" is not one)."""
    segments = path.split("?", 1)[0].split("/")[1:]
    if segments[:1] != ["api"] or len(segments) < 3:
        return False
    if segments[2] == "namespaces":
        return len(segments) >= 5 and segments[4] == "secrets"
    return segments[2] == "secrets"


def _strip_secret_values(payload):
    """Drop Secret values from a response of the secrets resource, whatever its `kind` says.

    The app lists secrets as metadata only; this holds even if a body slips through (a server
    that ignores the metadata Accept header, a list, a kind field that lies).
    """
    items = payload.get("items") if isinstance(payload.get("items"), list) else [payload]
    for item in items:
        if isinstance(item, dict):
            strip_secret_values(item)


def _message(data):
    try:
        return json.loads(data).get("message") or "no message"
    except (ValueError, AttributeError):
        return (data or b"").decode("utf-8", errors="replace")[:200] or "no message"


def _short(exc):
    reason = getattr(exc, "reason", None)
    return str(reason or exc)[:200]


def init_app(app):
    app.extensions[EXTENSION_KEY] = Gateway.from_config(app.config)


def gateway():
    """The current app's gateway."""
    return current_app.extensions[EXTENSION_KEY]
