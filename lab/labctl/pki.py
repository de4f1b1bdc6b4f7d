"""The lab's PKI, made with the openssl CLI (stdlib only): the CA, serving and client
certificates, service-account keys, and kubeconfigs with them embedded -- the generic PKI class,
then the lab's own identities (`ensure_pki`, run by `up`) and `user_kubeconfig` (`scripts/lab cert`).

Layout under <state>/pki/: ca.{crt,key}, apiserver.{crt,key}, sa.{key,pub}, and one client
certificate per identity, <name>.{crt,key}. Keys are ECDSA P-256 (fast to generate; accepted by
Kubernetes for serving, client and service-account signing keys).
"""

from __future__ import annotations

import base64
import re
import secrets
import subprocess
from pathlib import Path

from .paths import (ADMIN_KUBECONFIG, APISERVER_URL, APP_KUBECONFIG, FIRST_SERVICE_IP, HOST, PKI_DIR,
                    USERS_DIR)
from .report import LabError

OPENSSL_TIMEOUT = 30
SUBJECT_PART = re.compile(r"^[A-Za-z0-9:._@+=-]+$")

_CNF = """[req]
distinguished_name = dn
prompt = no
[dn]
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[v3_client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
authorityKeyIdentifier = keyid
subjectAltName = {sans}
"""


class CertError(RuntimeError):
    pass


def _openssl(*args: str) -> None:
    try:
        proc = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=OPENSSL_TIMEOUT)
    except FileNotFoundError as exc:
        raise CertError("openssl not found on PATH (install the openssl package)") from exc
    except subprocess.TimeoutExpired as exc:
        raise CertError(f"openssl {args[0]} timed out after {OPENSSL_TIMEOUT}s") from exc
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise CertError(f"openssl {args[0]} failed: {last}")


def check_subject_part(value: str) -> str:
    if not value or not SUBJECT_PART.match(value):
        raise CertError(f"invalid name {value!r}: use letters, digits and : . _ @ + = -")
    return value


class PKI:
    def __init__(self, directory: Path, sans: list[str]):
        self.dir = directory
        self.sans = sans

    # -- paths -----------------------------------------------------------------
    def path(self, name: str, ext: str) -> Path:
        return self.dir / f"{name}.{ext}"

    @property
    def ca_crt(self) -> Path:
        return self.path("ca", "crt")

    @property
    def ca_key(self) -> Path:
        return self.path("ca", "key")

    def _cnf(self) -> Path:
        cnf = self.dir / "openssl.cnf"
        cnf.write_text(_CNF.format(sans=",".join(self.sans) or "DNS:localhost"))
        return cnf

    def _key(self, key: Path) -> None:
        _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(key))
        key.chmod(0o600)

    # -- generation ------------------------------------------------------------
    def ensure_ca(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        if self.ca_crt.exists() and self.ca_key.exists():
            return
        self._key(self.ca_key)
        _openssl("req", "-x509", "-new", "-key", str(self.ca_key), "-subj", "/CN=cluster-codex-lab-ca",
                 "-days", "3650", "-config", str(self._cnf()), "-extensions", "v3_ca", "-out", str(self.ca_crt))

    def ensure_sa_keys(self) -> tuple[Path, Path]:
        key, pub = self.path("sa", "key"), self.path("sa", "pub")
        if not (key.exists() and pub.exists()):
            self._key(key)
            _openssl("pkey", "-in", str(key), "-pubout", "-out", str(pub))
        return key, pub

    def ensure_cert(self, name: str, common_name: str, groups: tuple[str, ...] = (), server: bool = False,
                    force: bool = False, out_dir: Path | None = None) -> tuple[Path, Path]:
        """Create <name>.crt/.key (in out_dir, default the PKI dir) signed by the CA: a client
        certificate (CN = user, O = groups), or with server=True a serving one with the SANs."""
        directory = out_dir or self.dir
        directory.mkdir(parents=True, exist_ok=True)
        crt, key = directory / f"{name}.crt", directory / f"{name}.key"
        if crt.exists() and key.exists() and not force:
            return crt, key
        subject = "".join(f"/O={check_subject_part(g)}" for g in groups) + f"/CN={check_subject_part(common_name)}"
        csr = directory / f"{name}.csr"
        self._key(key)
        cnf = self._cnf()
        _openssl("req", "-new", "-key", str(key), "-subj", subject, "-config", str(cnf), "-out", str(csr))
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(self.ca_crt), "-CAkey", str(self.ca_key),
                 "-set_serial", "0x" + secrets.token_hex(16), "-days", "825", "-extfile", str(cnf),
                 "-extensions", "v3_server" if server else "v3_client", "-out", str(crt))
        csr.unlink(missing_ok=True)
        return crt, key


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def write_kubeconfig(target: Path, server: str, ca: Path, crt: Path, key: Path, user: str,
                     cluster: str = "cluster-codex-lab") -> Path:
    """A kubeconfig with the CA and client certificate embedded (portable, no file references)."""
    context = f"{user}@{cluster}"
    text = f"""apiVersion: v1
kind: Config
clusters:
- name: {cluster}
  cluster:
    server: {server}
    certificate-authority-data: {_b64(ca)}
users:
- name: "{user}"
  user:
    client-certificate-data: {_b64(crt)}
    client-key-data: {_b64(key)}
contexts:
- name: "{context}"
  context:
    cluster: {cluster}
    user: "{user}"
current-context: "{context}"
preferences: {{}}
"""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".tmp")
    tmp.write_text(text)
    tmp.chmod(0o600)
    tmp.replace(target)
    return target


# --------------------------------------------------------------------------------------------
# the lab's identities


def ensure_pki() -> None:
    """The CA, serving certificates, SA keys, and a client certificate + kubeconfig per lab identity (once)."""
    sans = ["DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default", "DNS:kubernetes.default.svc",
            "DNS:kubernetes.default.svc.cluster.local", f"IP:{HOST}", f"IP:{FIRST_SERVICE_IP}"]
    pki = PKI(PKI_DIR, sans)
    pki.ensure_ca()
    pki.ensure_sa_keys()
    pki.ensure_cert("apiserver", "kube-apiserver", server=True)
    pki.ensure_cert("kwok-serving", "kwok", server=True)
    identities = {
        # name: (CN, groups, kubeconfig path)
        "admin": ("lab-admin", ("system:masters",), ADMIN_KUBECONFIG),
        "kube-controller-manager": ("system:kube-controller-manager", (), PKI_DIR / "kube-controller-manager.kubeconfig"),
        "kube-scheduler": ("system:kube-scheduler", (), PKI_DIR / "kube-scheduler.kubeconfig"),
        "kwok": ("kwok-controller", (), PKI_DIR / "kwok.kubeconfig"),
        "app": ("cluster-codex-app", (), APP_KUBECONFIG),
    }
    for name, (cn, groups, kc) in identities.items():
        crt, key = pki.ensure_cert(name, cn, groups)
        if not kc.exists():
            write_kubeconfig(kc, APISERVER_URL, pki.ca_crt, crt, key, cn)


def user_kubeconfig(user: str, groups: list[str]) -> Path:
    """A fresh client certificate for CN=user, O=groups, and its kubeconfig in <state>/users/."""
    if not (PKI_DIR / "ca.key").exists():
        raise LabError("no lab CA yet; run scripts/lab up first")
    user = check_subject_part(user)
    checked = tuple(check_subject_part(g) for g in groups)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", user)
    if checked:
        stem += "--" + "+".join(re.sub(r"[^A-Za-z0-9._-]", "_", g) for g in checked)
    pki = PKI(PKI_DIR, [])
    crt, key = pki.ensure_cert(stem, user, checked, force=True, out_dir=USERS_DIR)
    return write_kubeconfig(USERS_DIR / f"{stem}.kubeconfig", APISERVER_URL, pki.ca_crt, crt, key, user)
