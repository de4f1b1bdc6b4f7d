"""Acting on a plan: each kubectl step run (read-only), dry-run on the server and applied, as the
user, never through a shell.

- `service` — `run_read`, `dry_run`, `apply`: every rule checked in order, one `Outcome` back;
- `kubectl` — the runner (Flask-free): argv, identity flags, timeout, bounded redacted output;
- `outcome` — ActionKind, ActionStatus, Reason (with its HTTP status), Outcome, kubectl failures
  in plain words;
- `diff` — a dry-run's objects before and after, and their diff;
- `limits` — actions per user per minute, reserved atomically;
- `records` — the plan_actions rows (app.models.PlanAction) and their audit events.
"""
