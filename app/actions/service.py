"""Run, Dry-run and Apply of one plan step, as the user, with every rule checked on the server.

    outcome = service.dry_run(current_user, run, "kubectl scale deployment web --replicas=0 -n team-a")
    outcome.ok, outcome.status_code, outcome.message, outcome.diff

The rules, in this order; the first that fails ends the action with a message, a status code, a
plan_actions row and an audit event, and kubectl is not started:

1. the user may read the run (404 otherwise, like a run that does not exist) and, to dry-run or
   apply, owns it; actions are on (CODEX_ACTIONS, read-only mode otherwise);
2. a slot of CODEX_ACTIONS_PER_MINUTE (429);
3. the strict parser accepts the text (422 with its reason); Run takes read-only steps, Dry-run
   and Apply changing ones;
4. the step's namespace and every kind it touches are granted: view to run, change to dry-run or
   apply (403);
5. Apply and Request approval: the newest dry-run or apply of exactly this text (and manifest) by this user on
   this run is an accepted dry-run younger than CODEX_DRY_RUN_VALID_FOR, and the objects'
   resourceVersions, read as the user now, are the ones that dry-run saw (409). With
   CODEX_APPROVAL=admin the user may not Apply (403) but Request approval; an administrator's
   approval (app.actions.approvals) then applies it as the user, through these same rules.

Then kubectl runs as the user (app.actions.kubectl) and its answer becomes the outcome: a dry-run
returns the objects before (read as the user) and after (the API server's answer) and their diff.
"""

from __future__ import annotations

from flask import current_app

from app.access import CHANGE, VIEW, access_for, actions_enabled, approval_by_admin
from app.actions import limits, records
from app.actions.diff import Key, answered_objects, change_diff, documents_yaml, rolled_back, scaled
from app.actions.kubectl import APP_ITSELF, Identity, Kubectl, KubectlMissing, KubectlResult
from app.actions.outcome import ActionKind, ActionStatus, Outcome, Reason, failure_of
from app.cluster.errors import ClusterError, Forbidden, NotFound, Unavailable
from app.cluster.gateway import Gateway, gateway, user_subject_name
from app.cluster.user_reader import UserReader
from app.config import default_kubeconfig, default_kubectl
from app.kinds import get_kind
from app.models import PlanRun
from app.plans import runs
from app.plans.core.kubectl import Refusal, Step, parse_step


def run_read(user, run: PlanRun, step_text: str) -> Outcome:
    """Run a read-only step as the user; its output, bounded and redacted, is in the outcome."""
    return _Action(ActionKind.RUN, user, run, step_text, None).outcome()


def dry_run(user, run: PlanRun, step_text: str, manifest: str | None = None) -> Outcome:
    """Dry-run a changing step on the server as the user; the outcome holds before, after and diff."""
    return _Action(ActionKind.DRY_RUN, user, run, step_text, manifest).outcome()


def apply(user, run: PlanRun, step_text: str, manifest: str | None = None, approved_by=None) -> Outcome:
    """Apply a changing step as the user, only after an accepted dry-run of the same text (and, with
    CODEX_APPROVAL=admin, only for the administrator `approved_by`)."""
    return _Action(ActionKind.APPLY, user, run, step_text, manifest, approved_by).outcome()


def request_approval(user, run: PlanRun, step_text: str, manifest: str | None = None) -> Outcome:
    """Ask an administrator to approve the Apply of a step; it needs what an Apply needs."""
    return _Action(ActionKind.REQUEST, user, run, step_text, manifest).outcome()


def identity_for(gw: Gateway, user) -> Identity:
    """Exactly the identity the gateway reads as: the user's subject and group, or the app itself."""
    if not gw.impersonation:
        return APP_ITSELF
    return Identity(user_subject_name(user.id, gw.users_namespace), (gw.users_group,))


def kubectl_for(config, gw: Gateway) -> Kubectl:
    """The runner on the gateway's kubeconfig and context, with the configured binary and timeout."""
    return Kubectl(config["CODEX_KUBECTL"] or default_kubectl(), kubeconfig=gw.kubeconfig or default_kubeconfig(),
                   context=gw.context, timeout=float(config["CODEX_ACTION_TIMEOUT"]))


class _Stop(Exception):
    """Ends an action early: refused by a rule (kubectl not started) or failed."""

    def __init__(self, reason: Reason, message: str, status=ActionStatus.REFUSED, result=None, **fields):
        super().__init__(message)
        self.reason, self.message, self.status, self.result, self.fields = reason, message, status, result, fields


class _Action:
    """One Run, Dry-run or Apply: the checks in order, kubectl, the outcome and its record."""

    def __init__(self, kind: ActionKind, user, run: PlanRun, text: str, manifest: str | None, approved_by=None):
        self.kind, self.user, self.run, self.text, self.manifest = kind, user, run, text or "", manifest
        self.approved_by = approved_by
        self.config = current_app.config
        self.access = access_for(user)
        self.gw = gateway()
        self.identity = identity_for(self.gw, user) if getattr(user, "id", None) is not None else None
        self.step: Step | None = None
        self.versions: str | None = None  # the objects' resourceVersions, as seen by this action

    def outcome(self) -> Outcome:
        try:
            outcome = self._carry_out()
        except _Stop as stop:
            outcome = self._outcome(stop.status, stop.reason, stop.message, stop.result, **stop.fields)
        return records.save(self.user, self.run, self.text, self.manifest, outcome, self.versions)

    def _carry_out(self) -> Outcome:
        self._check_run()
        self._reserve()
        step = self._parse()
        self._check_grants(step)
        if self.kind is ActionKind.RUN:
            result = self._kubectl(step.argv(dry_run=False), step)
            return self._outcome(ActionStatus.ACCEPTED, Reason.OK, f"Ran as {self._who}.", result)
        if self.kind is ActionKind.DRY_RUN:
            return self._dry_run(step)
        if self.kind is ActionKind.REQUEST:
            return self._request()
        return self._apply(step)

    # -- the rules, in order ------------------------------------------------------------------

    def _check_run(self) -> None:
        if getattr(self.user, "id", None) is None or not runs.readable_by(self.run, self.user, self.access):
            raise _Stop(Reason.HIDDEN, "That plan does not exist or you may not see it.")
        if self.kind is not ActionKind.RUN and self.run.user_id != self.user.id:
            raise _Stop(Reason.NOT_OWNER, f"Only the plan's owner may {self.kind.label.lower()} its steps.")
        if not actions_enabled(self.config):
            raise _Stop(Reason.READ_ONLY, "Actions are turned off on this server (read-only mode): "
                                          "copy the command instead.")
        by_admin = approval_by_admin(self.config)
        if self.kind is ActionKind.APPLY and by_admin and self.approved_by is None:
            raise _Stop(Reason.NEEDS_APPROVAL, "Not applied: this change needs an administrator's approval; "
                                               "request it after an accepted dry-run.")
        if self.kind is ActionKind.REQUEST and not by_admin:
            raise _Stop(Reason.APPROVAL_OFF, "Approval is not required on this server: apply the change yourself.")

    def _reserve(self) -> None:
        try:
            limits.reserve_action(self.user, int(self.config["CODEX_ACTIONS_PER_MINUTE"]), f"plan run {self.run.id}",
                                  f"{self.kind}: {records.command_for_audit(self.text)}")
        except limits.ActionLimitReached as limit:
            raise _Stop(Reason.LIMIT, limit.message, retry_after=limit.retry_after) from None

    def _parse(self) -> Step:
        parsed = parse_step(self.text, default_namespace=self.run.finding_namespace or None,
                            cluster_scoped_allowed=self.access.admin, manifest=self.manifest)
        if isinstance(parsed, Refusal):
            raise _Stop(Reason.PARSER, f"Not run: {parsed.reason}.")
        self.step = parsed
        if self.kind is ActionKind.RUN and parsed.mutates:
            raise _Stop(Reason.WRONG_ACTION, "This step changes the cluster: dry-run it first.")
        if self.kind is not ActionKind.RUN and not parsed.mutates:
            raise _Stop(Reason.WRONG_ACTION, "This step only reads the cluster: use Run.")
        return parsed

    def _check_grants(self, step: Step) -> None:
        verb = CHANGE if step.mutates else VIEW
        where = f"in namespace {step.namespace}" if step.namespace else "cluster-wide"
        for kind in step.kinds:
            if not self.access.allows(step.namespace, kind, verb):
                raise _Stop(Reason.GRANT, f"Not run: you may not {'change' if step.mutates else 'see'} {kind} "
                                          f"{where} (no {verb} grant).")

    # -- dry-run and apply ----------------------------------------------------------------------

    def _dry_run(self, step: Step) -> Outcome:
        before = self._read_objects(step)
        result = self._kubectl(step.argv(dry_run=True), step)
        after = self._rolled_back(step, before) if step.verb == "rollout undo" else _answer(step, before, result)
        diff = change_diff(list(step.objects), before, after)
        window = _duration(int(self.config["CODEX_DRY_RUN_VALID_FOR"]))
        then = (f"Request an administrator's approval within {window}." if approval_by_admin(self.config)
                else f"Apply it within {window}.")
        return self._outcome(
            ActionStatus.ACCEPTED, Reason.OK,
            f"The API server accepts this change (dry-run as {self._who}, nothing was changed). "
            + ("" if diff else "It would change nothing: the object already looks like that. ") + then,
            result, diff=diff,
            before=documents_yaml(list(step.objects), before), after=documents_yaml(list(step.objects), after))

    def _rolled_back(self, step: Step, before: dict[Key, dict | None]) -> dict[Key, dict | None]:
        """The Deployment after `rollout undo`: the older ReplicaSet's template, read as the user (unchanged
        when they may not list ReplicaSets or no older revision exists)."""
        revision = next((int(a.partition("=")[2]) for a in step.args if a.startswith("--to-revision=")
                         and a.partition("=")[2].isdigit()), None)
        try:
            replicasets, _ = UserReader(self.gw, self.user, self.access).list(get_kind("replicasets"), step.namespace)
        except ClusterError:  # Forbidden included: then the diff stays empty rather than guessed
            replicasets = []
        return {key: rolled_back(obj, replicasets, revision) or obj for key, obj in before.items()}

    def _apply(self, step: Step) -> Outcome:
        self._check_dry_run()
        result = self._kubectl(step.argv(dry_run=False), step)
        said = next((line for line in result.stdout.splitlines() if line.strip()), "")
        applied = f"Applied as {self._who}" + (f", approved by {self.approved_by.username}." if self.approved_by
                                                 else ".")
        return self._outcome(ActionStatus.ACCEPTED, Reason.OK, f"{applied} kubectl said: {said}" if said else applied,
                             result)

    def _request(self) -> Outcome:
        if records.pending_request(self.run, self.text, self.manifest) is not None:
            raise _Stop(Reason.REQUEST_PENDING, "An administrator's approval of this command is already pending.")
        dry = self._check_dry_run()
        expires_after = int(self.config["CODEX_APPROVAL_EXPIRES_AFTER"])
        request = records.open_request(self.user, self.run, self.text, self.manifest, dry, expires_after)
        return self._outcome(ActionStatus.ACCEPTED, Reason.OK,
                             f"Approval requested: an administrator may approve it within {_duration(expires_after)}; "
                             f"it is then dry-run again and applied as {self._who}.", request_id=request.id)

    def _check_dry_run(self):
        """The accepted, fresh, unused dry-run this Apply (or request) rests on, on an unchanged object."""
        last = records.last_binding(self.run, self.user, self.text, self.manifest)
        window = int(self.config["CODEX_DRY_RUN_VALID_FOR"])
        if last is None:
            raise _Stop(Reason.NO_DRY_RUN, "Dry-run this exact command first: Apply runs only a command whose "
                                           "dry-run the API server accepted.")
        if last.action == ActionKind.APPLY and last.status == ActionStatus.ACCEPTED:
            raise _Stop(Reason.DRY_RUN_USED, "An Apply already used this dry-run: dry-run again to apply again.")
        if last.action == ActionKind.APPLY:
            raise _Stop(Reason.DRY_RUN_USED, "The last Apply of this command failed: check the object and "
                                             "dry-run again before retrying.")
        if last.status != ActionStatus.ACCEPTED:
            raise _Stop(Reason.DRY_RUN_USED, "The last dry-run of this command did not succeed: dry-run it again.")
        if records.expired(last, window):
            raise _Stop(Reason.DRY_RUN_EXPIRED, f"The dry-run is older than {_duration(window)}: dry-run again.")
        self._read_objects(self.step)  # sets self.versions to what the object is now
        if self.versions != last.resource_versions:
            raise _Stop(Reason.CHANGED, "The object changed since the dry-run; dry-run again.")
        return last

    def _read_objects(self, step: Step) -> dict[Key, dict | None]:
        """The step's objects now, read as the user (None: does not exist); records their versions."""
        reader = UserReader(self.gw, self.user, self.access)
        found: dict[Key, dict | None] = {}
        for kind_name, name in step.objects:
            try:
                found[(kind_name, name)] = reader.get(get_kind(kind_name), step.namespace, name)
            except NotFound:
                found[(kind_name, name)] = None
            except Forbidden as exc:
                raise _Stop(Reason.FORBIDDEN, f"Not run: the API server would not show you {kind_name}/{name} "
                                              f"({exc.message}).") from None
            except Unavailable as exc:
                raise _Stop(Reason.UNREACHABLE, f"Not run: the cluster could not be reached ({exc.message}).",
                            ActionStatus.FAILED) from None
            except ClusterError as exc:
                raise _Stop(Reason.ERROR, f"Not run: reading {kind_name}/{name} failed ({exc.message}).",
                            ActionStatus.FAILED) from None
        self.versions = ";".join(f"{kind}/{name}={_version(found[(kind, name)])}" for kind, name in step.objects)
        return found

    # -- kubectl and the outcome ----------------------------------------------------------------

    @property
    def _who(self) -> str:
        return "you" if self.identity is not APP_ITSELF else "the app's own identity (impersonation off)"

    def _kubectl(self, argv: list[str], step: Step) -> KubectlResult:
        try:
            result = kubectl_for(self.config, self.gw).run(argv, identity=self.identity, stdin=step.stdin)
        except KubectlMissing as exc:
            raise _Stop(Reason.KUBECTL_MISSING, f"Not run: {exc}.", ActionStatus.FAILED) from None
        if not result.ok:
            reason, words = failure_of(result)
            raise _Stop(reason, self._failure_message(words, result), ActionStatus.FAILED, result)
        return result

    def _failure_message(self, words: str, result: KubectlResult) -> str:
        message = f"{self.kind.label} failed. {words}."
        if self.kind is ActionKind.APPLY and (result.timed_out or result.stdout.strip()):
            message += (" Part of the change may have reached the API server: check the object before "
                        "trying again.")
        return message

    def _outcome(self, status: ActionStatus, reason: Reason, message: str, result: KubectlResult | None = None,
                 **fields) -> Outcome:
        step = self.step
        ran = {} if result is None else dict(output=_output(result), exit_code=result.exit_code,
                                             duration=result.duration, timed_out=result.timed_out)
        return Outcome(self.kind, status, reason, message,
                       verb=step and step.verb, namespace=step and step.namespace, kind=step and step.kind,
                       name=step and step.name, identity=None if self.identity is None else str(self.identity),
                       **ran, **fields)


def _answer(step: Step, before: dict[Key, dict | None], result: KubectlResult) -> dict[Key, dict | None]:
    """The objects after the change, as the API server's dry-run answered."""
    if step.verb == "delete":
        return {key: None for key in step.objects}
    if step.verb == "scale":
        replicas = int(next(a for a in step.args if a.startswith("--replicas=")).partition("=")[2])
        return {key: scaled(before.get(key), replicas) for key in step.objects}
    answered = answered_objects(result.stdout)
    # kubectl prints nothing for an object it had no change to send (`set image` to the image it has).
    return {key: answered.get(key, before.get(key)) for key in step.objects}


def _version(obj: dict | None) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "-") if obj else "-"


def _output(result: KubectlResult) -> str:
    if result.stdout and result.stderr:
        return result.stdout.rstrip("\n") + "\n" + result.stderr
    return result.stdout or result.stderr


def _duration(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds >= 120 and seconds % 60 == 0 else f"{seconds} s"
