"""The README, docs/*.md and benchmarks/NOTES.md: short, linked correctly, and free of tracker talk.

Their performance figures are checked against the committed results in
tests/test_benchmarks.py; this file checks the text itself. Nothing here runs
jaxpool, so it takes well under a second.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "NOTES.md"]
CI_COMMAND = (
    'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[test,all]" '
    "&& python -m pytest -q -n 2"
)
MAIN_JOB = (
    'python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[examples]" '
    "&& python examples/train_digits.py"
)
TORCH_CPU = "pip install torch --index-url https://download.pytorch.org/whl/cpu"
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)


def _prose(text: str) -> str:
    """The text without its fenced code blocks."""
    return FENCE.sub("", text)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    found, seen = set(), {}
    for line in _prose(path.read_text()).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if match:
            slug = _slug(match.group(1))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def _broken_links(path: Path) -> list[str]:
    broken = []
    for target in LINK.findall(_prose(path.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto: and the like
            continue
        file_part, _, anchor = target.partition("#")
        linked = (path.parent / file_part).resolve() if file_part else path
        if not linked.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and linked.suffix == ".md" and anchor not in _anchors(linked):
            broken.append(f"{target} (no such heading)")
    return broken


def test_slugs_follow_github():
    assert _slug("Differences from `lax.reduce_window`") == "differences-from-laxreduce_window"
    assert _slug("XLA:CPU internals") == "xlacpu-internals"
    assert _slug("The two commands") == "the-two-commands"


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_every_relative_link_points_to_a_file_and_heading_that_exist(path):
    assert _broken_links(path) == []


def test_the_link_check_sees_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[a](missing.md) [b](#title) [c](#nowhere) [d](https://x.org)\n")
    assert _broken_links(page) == ["missing.md (no such file)", "#nowhere (no such heading)"]


def test_the_readme_is_short():
    assert len(README.read_text().splitlines()) <= 250


def test_the_readme_gives_the_two_commands_ci_runs():
    text = README.read_text()
    marker = text.index("<!-- ci: test command -->\n```bash\n")
    first_line = text[marker:].split("\n")[2]
    assert first_line == CI_COMMAND
    assert MAIN_JOB in text and (ROOT / "examples" / "train_digits.py").exists()
    assert 'python -m pytest -q -n 2 -m "not slow"' in text


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_tracker_talk(path):
    text = path.read_text()
    assert not re.search(r"\bissues? #?\d+", text, re.IGNORECASE)
    assert not re.search(r"\btargets?\b.{0,40}\b(met|missed)\b", text, re.IGNORECASE | re.DOTALL)


@pytest.mark.parametrize("path", PAGES, ids=lambda path: path.relative_to(ROOT).as_posix())
def test_no_page_suggests_a_plain_pip_install_torch(path):
    # A plain `pip install torch` pulls about 4 GB of CUDA packages; name it only to warn.
    text = " ".join(path.read_text().split())
    cpu = re.escape(TORCH_CPU.removeprefix("pip install torch"))
    for match in re.finditer(rf"pip install torch\b(?!{cpu})", text):
        assert text[: match.start()].endswith("a plain `"), text[match.start() - 80 : match.end()]


@pytest.mark.parametrize("name", ["README.md", "docs/pytorch.md", "docs/performance.md"])
def test_pages_that_compare_with_pytorch_give_its_cpu_only_install(name):
    assert TORCH_CPU in " ".join((ROOT / name).read_text().split())
