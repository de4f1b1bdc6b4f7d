"""labctl: the controller of the local Kubernetes lab, behind `scripts/lab up | down | status |
env | cert | issues`.

Stdlib only (plus the openssl CLI and the binaries `scripts/lab build` puts in the cache): it runs
with the system python3, before the project's venv exists. Every wait has a timeout; every
failure is one line naming the component, what to do, and its log.

The parts, each importing only those listed before it:

- report      `say` and LabError: one line per step, one line per failure
- paths       repository, state and cache dirs, ports, CIDRs, timeouts; the binaries' lookup
- probes      HTTP/TCP checks and each component's health check
- components  the Component table: how each process is started and checked, in start order
- processes   pid files, start / wait healthy / stop, RSS, the state-dir lock
- cluster     kubectl and helm with the admin kubeconfig, poll, namespaces
- pki         the CA, certificates and kubeconfigs (openssl CLI)
- install     what `up` and `issues` apply to the cluster: CRDs, manifests, charts
- cli         the commands and their argparse front end (`python3 lab/labctl`, `-m labctl`)
"""
