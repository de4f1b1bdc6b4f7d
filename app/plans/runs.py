"""The PlanRun lifecycle: create, start (by a worker), progress, stop, finish, reap and sweep, and history queries."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from app.access import Access
from app.extensions import db
from app.models import PlanRun, utcnow
from app.plans.core.prompts import prompt_as_text
from app.plans.core.vocabulary import RunStatus

HISTORY_LIMIT = 20


def create_run(user_id, result_name, finding, mode, user_context="", model="", messages=None,
               status=RunStatus.STREAMING, error_message=None, context_kinds=()):
    """Insert a run for a finding (an app.findings.Finding, or None when it is gone) and commit."""
    now = utcnow()
    run = PlanRun(
        user_id=user_id, result_name=result_name[:253], mode=mode,
        finding_kind=(finding.kind if finding else "")[:63],
        # "" for a cluster-scoped object: the column is a plain string, and history_for asks so.
        finding_namespace=((finding.namespace or "") if finding else "")[:63],
        finding_name=(finding.name if finding else "")[:253],
        user_context=user_context or "", model=model, output_text="",
        prompt_text=prompt_as_text(messages) if messages else "", prompt_messages=json.dumps(messages or []),
        status=status, error_message=error_message, created_at=now, stop_requested=False,
        finished_at=None if status == RunStatus.STREAMING else now,
        context_kinds=",".join(sorted(set(context_kinds))),
    )
    db.session.add(run)
    db.session.commit()
    return run


def start_run(run_id):
    """A worker starts the run: mark it started and return its messages (None: it is not generating,
    or another worker started it first; a run queued twice is written once)."""
    with db.engine.begin() as connection:  # not the session: its objects stay loaded
        started = connection.execute(
            sa.update(PlanRun).where(PlanRun.id == run_id, PlanRun.status == RunStatus.STREAMING,
                                     PlanRun.stream_opened_at.is_(None))
            .values(stream_opened_at=utcnow())).rowcount == 1
        if not started:
            return None
        return json.loads(connection.scalar(sa.select(PlanRun.prompt_messages).where(PlanRun.id == run_id)) or "[]")


def save_progress(run_id, output_text, first_token_at=None):
    """The text written so far (a restart loses nothing finished); only while the run is generating."""
    values = {"output_text": output_text}
    if first_token_at is not None:
        values["first_token_at"] = first_token_at
    with db.engine.begin() as connection:
        connection.execute(sa.update(PlanRun).where(PlanRun.id == run_id, PlanRun.status == RunStatus.STREAMING)
                           .values(**values))


def status_of(run_id):
    """(status, error message) as stored now."""
    with db.engine.connect() as connection:
        row = connection.execute(sa.select(PlanRun.status, PlanRun.error_message).where(PlanRun.id == run_id)).first()
    return (row[0], row[1] or "") if row else (RunStatus.FAILED, "")


def generating_ids(older_than):
    """Runs generating for more than `older_than` seconds (the reaper asks the bus about each)."""
    cutoff = utcnow() - timedelta(seconds=older_than)
    with db.engine.connect() as connection:
        return list(connection.scalars(sa.select(PlanRun.id).where(PlanRun.status == RunStatus.STREAMING,
                                                                    PlanRun.created_at < cutoff)))


def unstarted_ids():
    """Runs generating that no worker has started: queued when their process stopped."""
    with db.engine.connect() as connection:
        return list(connection.scalars(sa.select(PlanRun.id).where(PlanRun.status == RunStatus.STREAMING,
                                                                    PlanRun.stream_opened_at.is_(None))))


def nothing_streamed(run_id):
    with db.engine.connect() as connection:
        return not connection.scalar(sa.select(PlanRun.output_text).where(PlanRun.id == run_id))


def requeue(run_id):
    """Forget that a lost worker started the run, before it is queued again."""
    with db.engine.begin() as connection:
        connection.execute(sa.update(PlanRun).where(PlanRun.id == run_id, PlanRun.status == RunStatus.STREAMING)
                           .values(stream_opened_at=None, first_token_at=None))


def interrupt(run_id, message):
    """Mark a run lost with its worker interrupted, its text kept; False if it had ended meanwhile."""
    with db.engine.begin() as connection:
        return connection.execute(
            sa.update(PlanRun).where(PlanRun.id == run_id, PlanRun.status == RunStatus.STREAMING)
            .values(status=RunStatus.INTERRUPTED, error_message=message, finished_at=utcnow())).rowcount == 1


def finish_run(run_id, status, output_text, error_message=None, usage=None, model=None,
               first_token_at=None, if_generating=False):
    """Record the end of a run: status, text, tokens and timings (`if_generating`: only if nothing
    else ended it meanwhile, as a worker finishing a run that a revoke ended). True if recorded."""
    values = dict(status=status, output_text=output_text, error_message=error_message,
                  finished_at=utcnow())
    if usage is not None:
        values.update(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)
    if model:
        values["model"] = model[:200]
    if first_token_at is not None:
        values["first_token_at"] = first_token_at
    where = [PlanRun.id == run_id] + ([PlanRun.status == RunStatus.STREAMING] if if_generating else [])
    # A short transaction of its own: a worker holds no session between chunks.
    with db.engine.begin() as connection:
        return connection.execute(sa.update(PlanRun).where(*where).values(**values)).rowcount == 1


def request_stop(run, bus):
    """Ask a generating run to stop, from any replica: its worker sees the flag within a second; a
    run no worker has started yet is stopped at once."""
    if run.status != RunStatus.STREAMING:
        return
    db.session.execute(sa.update(PlanRun).where(PlanRun.id == run.id).values(stop_requested=True))
    db.session.execute(
        sa.update(PlanRun)
        .where(PlanRun.id == run.id, PlanRun.status == RunStatus.STREAMING, PlanRun.stream_opened_at.is_(None))
        .values(status=RunStatus.STOPPED, error_message="Stopped before the plan started.", finished_at=utcnow())
    )
    db.session.commit()
    bus.stop(run.id)


def stop_requested_in_db(run_id):
    """Read the stop flag on a short-lived connection (a worker holds none between chunks)."""
    with db.engine.connect() as connection:
        return bool(connection.scalar(sa.select(PlanRun.stop_requested).where(PlanRun.id == run_id)))


def sweep_stale_runs(max_age_seconds, alive=lambda run_id: False):
    """Mark runs left 'streaming' longer than max_age as interrupted (a crash before any reaper saw
    them), except those `alive(run_id)` says a queue or a worker still holds."""
    cutoff = utcnow() - timedelta(seconds=max_age_seconds)
    stale = [run_id for run_id in db.session.scalars(sa.select(PlanRun.id).where(
        PlanRun.status == RunStatus.STREAMING, PlanRun.created_at < cutoff)) if not alive(run_id)]
    if not stale:
        return 0
    result = db.session.execute(
        sa.update(PlanRun)
        .where(PlanRun.id.in_(stale), PlanRun.status == RunStatus.STREAMING)
        .values(status=RunStatus.INTERRUPTED, finished_at=utcnow(),
                error_message="The plan was interrupted: the server writing it stopped before the end.")
    )
    db.session.commit()
    return result.rowcount


def readable_by(run, user, access: Access):
    """May `user` (whose grants are `access`) read this run (its text, its stream)?

    Administrators always; everyone else (the owner included) needs the run's namespace now, and
    a user other than the owner needs every kind the run's context was read from: the plan was
    written from that pod YAML, those logs and events, so a teammate granted only services there
    must not read it.
    """
    namespace = run.finding_namespace or None
    if not access.allows(namespace):
        return False
    if access.admin or run.user_id == getattr(user, "id", None):
        return True
    return all(access.allows(namespace, kind) for kind in context_kinds_of(run))


def context_kinds_of(run):
    """The kind names the run's context read (app.kinds names)."""
    return [kind for kind in (run.context_kinds or "").split(",") if kind]


def history_for(kind, namespace, name, limit=HISTORY_LIMIT):
    """Newest runs about one finding (any user; namespace None or "": cluster-scoped): the
    namespace check is the caller's."""
    return db.session.scalars(
        sa.select(PlanRun)
        .where(PlanRun.finding_kind == kind, PlanRun.finding_namespace == (namespace or ""),
               PlanRun.finding_name == name)
        .order_by(PlanRun.created_at.desc(), PlanRun.id.desc())
        .limit(limit)
    ).all()


def recent_counts(user_id, stale_after_seconds):
    """(runs generating now, runs started in the last minute) for one user. Every run is a job that
    runs to its end, followed or not, so every generating run holds a slot."""
    now = utcnow()
    streaming = db.session.scalar(
        sa.select(sa.func.count(PlanRun.id)).where(
            PlanRun.user_id == user_id, PlanRun.status == RunStatus.STREAMING,
            PlanRun.created_at >= now - timedelta(seconds=stale_after_seconds)))
    last_minute = db.session.scalar(
        sa.select(sa.func.count(PlanRun.id)).where(
            PlanRun.user_id == user_id, PlanRun.created_at >= now - timedelta(seconds=60)))
    return streaming or 0, last_minute or 0


def messages_of(run):
    """The chat messages stored on the run, exactly as they are sent to the model."""
    return json.loads(run.prompt_messages or "[]")
