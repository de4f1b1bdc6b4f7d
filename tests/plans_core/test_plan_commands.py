"""Every kubectl command in a plan is found, classified and checked against the user's grants."""

import pytest

from app.plans.core.commands import CHANGES, READ_ONLY, extract_commands, parse_command, split_code


@pytest.mark.parametrize(("command", "effect"), [
    ("kubectl -n team-a get pods", READ_ONLY),
    ("kubectl -n team-a describe pod web-1", READ_ONLY),
    ("kubectl -n team-a logs pod/web-1 -c web --previous --tail=50", READ_ONLY),
    ("kubectl -n team-a events --for pod/web-1", READ_ONLY),
    ("kubectl -n team-a top pod --containers", READ_ONLY),
    ("kubectl explain deployment.spec.strategy", READ_ONLY),
    ("kubectl auth can-i patch deployments -n team-a", READ_ONLY),
    ("kubectl api-resources", READ_ONLY),
    ("kubectl diff -f deploy.yaml", READ_ONLY),
    ("kubectl -n team-a rollout status deployment/web --timeout=180s", READ_ONLY),
    ("kubectl -n team-a rollout history deployment/web", READ_ONLY),
    ("kubectl -n team-a apply -f pvc.yaml --dry-run=server", READ_ONLY),
    ("kubectl -n team-a apply -f pvc.yaml", CHANGES),
    ("kubectl -n team-a patch service web --type=json -p '[{\"op\": \"replace\"}]'", CHANGES),
    ("kubectl -n team-a set image deployment/web web=ghcr.io/acme/web:2.2.9", CHANGES),
    ("kubectl -n team-a scale deployment/web --replicas=0", CHANGES),
    ("kubectl -n team-a rollout restart deployment/web", CHANGES),
    ("kubectl -n team-a rollout undo deployment/web", CHANGES),
    ("kubectl -n team-a delete pod web-1", CHANGES),
    ("kubectl -n team-a edit deployment web", CHANGES),
    ("kubectl -n team-a label pod web-1 debug=true", CHANGES),
    ("kubectl -n team-a annotate pod web-1 note=x", CHANGES),
    ("kubectl -n team-a create job --from=cronjob/nightly manual-1", CHANGES),
    ("kubectl replace -f web.yaml", CHANGES),
    ("kubectl cordon node-1", CHANGES),
    ("kubectl drain node-1 --ignore-daemonsets", CHANGES),
    ("kubectl taint nodes node-1 key=value:NoSchedule", CHANGES),
    ("kubectl -n team-a exec -it web-1 -- sh", CHANGES),
    ("kubectl -n team-a cp web-1:/tmp/dump ./dump", CHANGES),
    ("kubectl frobnicate everything", CHANGES),
])
def test_commands_are_classified(command, effect):
    assert parse_command(command).effect == effect


@pytest.mark.parametrize(("command", "namespaces", "every"), [
    ("kubectl -n team-a get pods", ("team-a",), False),
    ("kubectl get pods --namespace team-b", ("team-b",), False),
    ("kubectl get pods --namespace=team-c", ("team-c",), False),
    ("kubectl get pods -nteam-a", ("team-a",), False),
    ("kubectl get pods -A", (), True),
    ("kubectl get pods --all-namespaces | grep -n Crash", (), True),
    ("kubectl get storageclass", (), False),
    ("kubectl -n team-a delete pvc data --wait=false && kubectl -n team-b apply -f pvc.yaml", ("team-a", "team-b"), False),
])
def test_target_namespaces_are_parsed(command, namespaces, every):
    parsed = parse_command(command)
    assert (parsed.namespaces, parsed.all_namespaces) == (namespaces, every)


def test_namespaces_outside_the_grants_are_flagged():
    allowed = {"team-a"}
    assert not parse_command("kubectl -n team-a delete pod web-1").outside_grants(allowed)
    assert parse_command("kubectl -n team-b delete pod web-1").namespaces_outside(allowed) == ("team-b",)
    assert parse_command("kubectl get pods -A").namespaces_outside(allowed) == ("*",)
    assert not parse_command("kubectl get storageclass").outside_grants(allowed)


def test_chained_commands_count_as_changing_when_any_part_changes():
    parsed = parse_command("kubectl -n team-a get pvc data -o yaml > pvc.yaml && kubectl -n team-a delete pvc data")
    assert parsed.verbs == ("get", "delete") and parsed.effect == CHANGES


PLAN = """\
## Steps

Run `kubectl -n team-a get pods` first, then:

```bash
# roll back
kubectl -n team-a rollout undo \\
  deployment/web
echo "done"
$ kubectl -n team-a rollout status deployment/web
kubectl apply -n team-a -f - <<EOF
apiVersion: v1
metadata: {name: x}
EOF
```

```yaml
# not a shell block, but still a command someone may paste
    kubectl -n team-z get pods
```

Text that mentions kubectl without a command.
"""


def test_commands_are_extracted_from_fenced_and_inline_code():
    commands = extract_commands(PLAN)
    assert [c.text.split("\n")[0] for c in commands] == [
        "kubectl -n team-a get pods",
        "kubectl -n team-a rollout undo deployment/web",
        "kubectl -n team-a rollout status deployment/web",
        "kubectl apply -n team-a -f - <<EOF",
        "kubectl -n team-z get pods",
    ]
    assert commands[3].text.endswith("metadata: {name: x}\nEOF")


def test_code_blocks_split_into_one_segment_per_command():
    segments = split_code("# check\nkubectl -n a get pods\nkubectl -n a delete pod x\necho ok\necho again\n")
    assert [(text, cmd.effect if cmd else None) for text, cmd in segments] == [
        ("# check", None), ("kubectl -n a get pods", READ_ONLY), ("kubectl -n a delete pod x", CHANGES),
        ("echo ok\necho again", None)]


def test_broken_quotes_do_not_break_parsing():
    assert parse_command("kubectl -n team-a patch svc web -p '{\"spec\": ").namespaces == ("team-a",)


@pytest.mark.parametrize(("command", "verbs", "namespaces"), [
    # Words are split the way bash splits them (the strict step parser reads the same words).
    ("kubectl get pods#x -n team-a", ("get",), ("team-a",)),  # '#' inside a word starts no comment
    ("kubectl get pods # -n team-b", ("get",), ()),
    ("kubectl -n team-a get pods `kubectl -n team-b delete pod x`", ("get", "delete"), ("team-a", "team-b")),
    ("kubectl -n team-a get pods -n==x", ("get",), ("team-a", "=x")),  # as kubectl reads -n=...
    ("kubectl -n 'team-a' get \"pods\"", ("get",), ("team-a",)),
])
def test_commands_are_read_word_by_word_like_a_shell_would(command, verbs, namespaces):
    parsed = parse_command(command)
    assert (parsed.verbs, parsed.namespaces) == (verbs, namespaces)
