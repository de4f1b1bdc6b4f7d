"""`python -m eval`: score a model's remediation plans on the scenario suite (see eval/__init__.py)."""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from contextlib import ExitStack
from pathlib import Path

from app.config import Config
from app.plans.core.model_client import ModelClient, ModelSettings
from eval import suite
from eval.scenarios import BY_NAME, SCENARIOS
from tests.support.apps import app_factory
from tests.support.child_process import REPO
from tests.support.lab_control import install_app_chart, labctl
from tests.support.lab_kube import APP_KUBECONFIG, Kube
from tests.support.planner_process import PlannerProcess
from tests.support.users import lab_users


def main() -> int:
    parser = argparse.ArgumentParser(description="Score a model's remediation plans on the scenario suite.")
    parser.add_argument("--base-url", help="an OpenAI-compatible /v1 URL (default: start the offline planner)")
    parser.add_argument("--model", help=f"model name (default: CODEX_LLM_MODEL, {Config.CODEX_LLM_MODEL})")
    parser.add_argument("--api-key", help="API key (default: CODEX_LLM_API_KEY)")
    parser.add_argument("--max-tokens", type=int, default=Config.CODEX_LLM_MAX_TOKENS and int(Config.CODEX_LLM_MAX_TOKENS),
                        help="cap on each plan's length (default: CODEX_LLM_MAX_TOKENS, none)")
    parser.add_argument("--timeout", type=float, default=Config.CODEX_LLM_TIMEOUT, help="seconds per model wait")
    parser.add_argument("--only", nargs="*", choices=sorted(BY_NAME), help="run these scenarios only")
    parser.add_argument("--within", type=int, default=150, help="seconds to wait for a finding to clear")
    parser.add_argument("--json", type=Path, help="where to write the scores (default artifacts/eval/<model>.json)")
    args = parser.parse_args()
    scenarios = [BY_NAME[name] for name in args.only] if args.only else SCENARIOS
    install_app_chart()  # the change roles the developer's grant binds
    kube = Kube()
    with ExitStack() as stack:
        base_url = args.base_url or stack.enter_context(PlannerProcess()).base_url
        settings = ModelSettings(base_url=base_url, model=args.model or Config.CODEX_LLM_MODEL,
                                 api_key=args.api_key or Config.CODEX_LLM_API_KEY, timeout=args.timeout,
                                 max_tokens=args.max_tokens)
        model = ModelClient(settings)
        stack.callback(model.close)
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        app = stack.enter_context(app_factory({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'codex.db'}", "CODEX_KUBECONFIG": str(APP_KUBECONFIG),
            "CODEX_KUBECTL": str(labctl("paths").binary("kubectl")), "CODEX_ACTIONS_PER_MINUTE": 10_000,
            "CODEX_VERIFY_WITHIN": args.within}))()
        make_user = stack.enter_context(lab_users(app, "eval password"))
        scores, seconds = suite.run(app, model, kube, make_user, scenarios, args.within)
    print(suite.table(scores))
    print(f"model {settings.model} at {settings.base_url}: {seconds:.0f} s for {len(scores)} scenarios")
    out = args.json or REPO / "artifacts" / "eval" / f"{re.sub(r'[^A-Za-z0-9._-]', '_', settings.model)}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(suite.as_json(settings.model, scores, seconds), indent=2) + "\n")
    print(f"scores: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
