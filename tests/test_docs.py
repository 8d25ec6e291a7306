"""The documentation site: it builds without a warning, its examples run, and what cites it exists.

``make docs`` builds ``docs/`` with Sphinx, strict (``-W --keep-going -n``):
a warning, a broken cross-reference included, fails it. The same build runs
here, into a temporary directory, so ``make test`` catches a docstring or a
page that breaks it. Every ```` ```python ```` block of a page is a whole
program and runs here (fragments that need a server or a Redis are
```` ```py ```` blocks, shown but not run), as README.md's blocks do in
``test_readme.py``.

The code and the README cite the docs by path (``docs/protocol/channels.md,
"Joining"``); each cited file, and each cited section title, must exist.
Nothing in the repository may cite the specification files the protocol
pages were written from, which live outside it.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_exports import PUBLIC_MODULES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)

# The files outside the repository that the protocol, demo and benchmark pages replace,
# and the folder beside the checkout they came from.
OUTSIDE_FILES = ["CHANNELS", "LIVEVIEW", "DEMO_CHAT", "DEMO_LIVE", "WORKLOADS", "STYLE"]
OUTSIDE_FOLDER = "../shared/"

# A citation: a path under docs/, then optionally a section title in quotes.
CITATION = re.compile(r'\bdocs/[\w./-]*\w`?(?:,\s*"([^"\n]+)")?')


def _examples():
    for page in PAGES:
        blocks = re.findall(r"^```python\n(.*?)^```", page.read_text(), flags=re.DOTALL | re.MULTILINE)
        for number, source in enumerate(blocks):
            yield pytest.param(page, source, id=f"{page.relative_to(DOCS)}#{number}")


def _tracked_files():
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in listed.decode().split("\0") if name]


def _headings(page: Path) -> set[str]:
    return {match.group(1).strip() for match in re.finditer(r"^#{1,6} (.+)$", page.read_text(), flags=re.MULTILINE)}


# ---------------------------------------------------------------- the build


@pytest.mark.slow
def test_the_docs_build_without_a_single_warning(tmp_path):
    out = tmp_path / "html"
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-n", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert (build.returncode, build.stderr) == (0, "")
    pages = {path.relative_to(out).as_posix() for path in out.rglob("*.html")}
    for module in PUBLIC_MODULES:
        assert f"api/{module}.html" in pages
    assert {"index.html", "getting-started.html", "protocol/channels.html", "protocol/liveview.html",
            "demo/chat.html", "demo/live.html", "benchmarks.html", "guides/deploying.html"} <= pages


def test_every_public_module_has_its_api_page_and_no_other():
    pages = {path.name.removesuffix(".rst") for path in (DOCS / "api").glob("*.rst")}
    assert pages == set(PUBLIC_MODULES)


def test_the_docs_extra_is_part_of_dev():
    # make test runs the build above, so the test environment must have Sphinx.
    pyproject = (ROOT / "pyproject.toml").read_text()
    [dev] = re.findall(r'^dev = \[\n    "trio-otp\[([^\]]*)\]"', pyproject, flags=re.MULTILINE)
    assert "docs" in dev.split(",")


# ---------------------------------------------------------------- the examples


@pytest.mark.parametrize(("page", "source"), list(_examples()))
def test_docs_example_runs(page, source):
    namespace = {"__name__": "docs_example"}
    exec(compile(source, str(page), "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    for test in tests:
        import otp
        from otp.testing import open_test_supervisor

        async def in_node(test=test):
            async with open_test_supervisor():  # as the pytest plugin runs each test
                await test()

        otp.run(in_node)


def test_the_guides_have_examples_to_run():
    assert len(list(_examples())) >= 25


# ---------------------------------------------------------------- citations


def test_no_tracked_file_cites_the_specifications_from_outside_the_repository():
    names = [f"{name}.md".encode() for name in OUTSIDE_FILES] + [OUTSIDE_FOLDER.encode()]
    citing = {
        path.relative_to(ROOT).as_posix(): [name.decode() for name in names if name in path.read_bytes()]
        for path in _tracked_files()
        if path.is_file() and path != Path(__file__).resolve()
    }
    assert {path: found for path, found in citing.items() if found} == {}


def test_every_docs_path_cited_in_the_code_and_the_readme_exists():
    cited = {}
    for path in _tracked_files():
        if not path.is_file() or path.suffix not in {".py", ".md", ".js", ".html", ".toml", ".sh"}:
            continue
        if path.is_relative_to(DOCS) or path == Path(__file__).resolve():
            continue
        for match in CITATION.finditer(path.read_text(errors="replace")):
            target = match.group(0).split(",")[0].rstrip("`")
            if not target.startswith("docs/_build"):  # what make docs writes, not a page
                cited.setdefault((target, match.group(1)), path.relative_to(ROOT).as_posix())
    assert cited, "nothing cites the docs: the pattern no longer matches"
    missing_files = {where: target for (target, _), where in cited.items() if not (ROOT / target).exists()}
    assert missing_files == {}
    missing_sections = {
        where: (target, title)
        for (target, title), where in cited.items()
        if title is not None and title not in _headings(ROOT / target)
    }
    assert missing_sections == {}
