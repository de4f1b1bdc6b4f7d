"""Every Jinja global and filter, in one place: templates ask these, views don't inject them."""

from __future__ import annotations

from flask_login import current_user

from app.access import is_admin
from app.actions.outcome import ActionKind, ApprovalState
from app.kinds import grant_label
from app.plans.core.vocabulary import MODE_LABELS, STATUS_LABELS, PlanMode, RunStatus
from app.resources.format import human_age
from app.web.current import current_access
from app.web.urls import object_url, plan_url


def detail_url(finding) -> str | None:
    """The detail view of the object a finding is about, when the user may open it."""
    return object_url(current_access(), finding.kind, finding.namespace, finding.name)


def switcher_kinds():
    """The kinds (with their K9s aliases) the user may open, for the kind switcher."""
    return current_access().kinds() if current_user.is_authenticated else []


def _datetime(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else ""


def init_app(app):
    app.jinja_env.globals.update(
        is_admin=is_admin, grant_label=grant_label, human_age=human_age, plan_url=plan_url,
        detail_url=detail_url, switcher_kinds=switcher_kinds,
        PlanMode=PlanMode, RunStatus=RunStatus, mode_labels=MODE_LABELS, status_labels=STATUS_LABELS,
        action_labels={kind: kind.label for kind in ActionKind},
        approval_labels={state: state.label for state in ApprovalState},
    )
    app.jinja_env.filters["grant_label"] = grant_label
    app.jinja_env.filters["datetime"] = _datetime
