"""The README, docs/*.md and benchmarks/NOTES.md: short, linked correctly, and free of tracker talk.

Their performance figures are checked against the committed results in
tests/test_benchmarks.py; this file checks the text itself. Nothing here runs
jaxpool, so it takes well under a second.
"""

from __future__ import annotations

import re
import subprocess
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


def _ci_commands(text):
    """The commands .ci/run takes from the README, by marker, in order."""
    commands = re.findall(r"<!-- ci: ([^>]*) -->\n```bash\n([^\n]*)\n", text)
    return dict(commands), [command for _, command in commands]


def test_the_readme_gives_the_commands_ci_runs():
    text = README.read_text()
    by_marker, in_order = _ci_commands(text)
    assert in_order[0] == by_marker["test command"] == CI_COMMAND
    assert MAIN_JOB in text and (ROOT / "examples" / "train_digits.py").exists()
    assert '-m "not slow"' in text
    # Every later command makes its own environment, so none depends on another.
    for command in in_order[1:]:
        assert re.match(r"(PYENV_VERSION=\S+ )?python3(\.\d+)? -m venv \.venv-\w+ && ", command)
    # The oldest jax tested is the floor pyproject.toml declares, on the oldest Python.
    pyproject = (ROOT / "pyproject.toml").read_text()
    floor = re.search(r'"jax>=([\d.]+)"', pyproject).group(1)
    python_floor = re.search(r'requires-python = ">=([\d.]+)"', pyproject).group(1)
    oldest = by_marker["oldest jax test command"]
    assert f'"jax=={floor}"' in oldest and f"python{python_floor} -m venv" in oldest
    assert "-m compat" in oldest and "-m compat" in by_marker["newest jax test command"]
    assert "-m accelerator" in by_marker["accelerator test command"]


def test_ci_runs_what_the_readme_marks(tmp_path):
    # .ci/run's own parser, on a README of two marked commands.
    script = (ROOT / ".ci" / "run").read_text()
    awk = re.search(r"awk '([^']*)'", script).group(1)
    page = tmp_path / "README.md"
    page.write_text(
        "<!-- ci: test command -->\n```bash\necho one\n```\n\ntext\n\n"
        "<!-- ci: other command -->\n```bash\necho two\n```\n```bash\nnot this\n```\n"
    )
    found = subprocess.run(["awk", awk, str(page)], capture_output=True, text=True, check=True)
    assert found.stdout.splitlines() == ["echo one", "echo two"]


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
