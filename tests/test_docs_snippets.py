"""The docs' code runs: every ```python block of README.md and docs/*.md, with Sybil.

Each document is one test, its blocks run in order in one namespace (as a reader types them
into one shell), under pytest-django with the test settings and a database (``db``; a document
with a live server or a ``transaction=True`` test gets ``transactional_db``). A block that
defines ``test_*`` functions has them run as pytest would: their arguments are pytest fixtures
(``stripe_emulator``, ``settings``, ``vies_settings``, ``live_server``, ...), and a test without
``@pytest.mark.django_db`` (or a ``db``/``transactional_db`` argument) gets no database, so an
example that forgets the mark fails here as it would in a host project.

Shell blocks (```console, ```bash) are not run, but every ``manage.py payments_sync ...``
command in them must be accepted by the command's own parser: a documented option that the
command does not have, or a documented order it refuses, fails here. The commands themselves
run in scripts/fresh-project-check, in a new project.

A block that cannot run (a settings.py excerpt, an outline with the reader's own classes) is
marked in the Markdown with Sybil's skip directive and a reason, ``<!-- skip: next "why" -->``;
no document is left out, and a skip without a reason fails.
"""

from __future__ import annotations

import inspect
import re
import shlex
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import SkipTest

import pytest
from sybil import Example, Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.markdown import CodeBlockParser, SkipParser

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

#: Fixtures a document's test functions may ask for that need a transactional database.
TRANSACTIONAL = re.compile(r"transaction=True|\blive_server\b|\btransactional_db\b")
#: A skip directive without a reason.
BARE_SKIP = re.compile(r"<!--+\s*skip:\s*(next|start)\s*-+->")

#: Fixtures whose state is emptied before each test function of a document.
PER_TEST = {"stripe_emulator", "vies_responder"}

python = PythonEvaluator()


def evaluate(example: Example) -> None:
    """Run the block, then the ``test_*`` functions it defined, as pytest would."""
    namespace = example.namespace
    before = {name: value for name, value in namespace.items() if name.startswith("test_")}
    python(example)
    for name, value in list(namespace.items()):
        if name.startswith("test_") and callable(value) and before.get(name) is not value:
            run_test_function(value, namespace)


def run_test_function(function: Any, namespace: dict[str, Any]) -> None:
    request: pytest.FixtureRequest = namespace["__request__"]
    parameters = inspect.signature(function).parameters
    marks = {mark.name for mark in getattr(function, "pytestmark", [])}
    module_marks = namespace.get("pytestmark", [])  # a test module's own `pytestmark`
    if not isinstance(module_marks, list):
        module_marks = [module_marks]
    marks |= {mark.name for mark in module_marks}
    wants_db = "django_db" in marks or {"db", "transactional_db", "live_server"} & set(parameters)
    with ExitStack() as teardown:
        fresh: set[str] = set()
        arguments = {name: fixture_value(name, namespace, teardown, fresh) for name in parameters}
        if wants_db:
            function(**arguments)
        else:
            # No mark, no database: pytest-django's own "Database access not allowed".
            with request.getfixturevalue("django_db_blocker").block():
                function(**arguments)


def fixture_value(
    name: str, namespace: dict[str, Any], teardown: ExitStack, fresh: set[str]
) -> Any:
    """A fixture the document defines (a conftest.py block), else pytest's.

    pytest's fixtures live as long as the document's test; the emulator and the VIES responder
    are emptied before each test function that uses them, as their fixtures do per test.
    """
    definition = namespace.get(name)
    # What @pytest.fixture returns (pytest 8.4+) keeps the function as __wrapped__.
    if not hasattr(definition, "_fixture_function_marker"):
        value = namespace["__request__"].getfixturevalue(name)
        if name in PER_TEST and name not in fresh:
            value.reset()
            fresh.add(name)
        return value
    function = definition.__wrapped__
    arguments = {
        parameter: fixture_value(parameter, namespace, teardown, fresh)
        for parameter in inspect.signature(function).parameters
    }
    if inspect.isgeneratorfunction(function):
        generator = function(**arguments)
        value = next(generator)
        teardown.callback(next, generator, None)
        return value
    return function(**arguments)


def check_shell(example: Example) -> None:
    """Every ``manage.py payments_sync`` command of the block parses."""
    from django_payments_sync.management.commands.payments_sync import Command

    for line in example.parsed.splitlines():
        if "manage.py payments_sync" not in line:
            continue  # another command, or a transcript's output
        for command in line.removeprefix("$ ").split("&&"):
            words = shlex.split(command, comments=True)
            if words[:3] != ["python", "manage.py", "payments_sync"]:
                continue
            parser = Command().create_parser("manage.py", "payments_sync")
            try:
                parser.parse_args(words[3:])
            except SystemExit as exit:
                raise AssertionError(
                    f"{example.path}:{example.line}: {command.strip()!r}"
                ) from exit


SYBIL = Sybil(
    parsers=[
        CodeBlockParser("python", evaluate),
        CodeBlockParser("console", check_shell),
        CodeBlockParser("bash", check_shell),
        SkipParser(),
    ]
)


def document_param(path: Path) -> Any:
    """The document, with the database its snippets need (said statically, for pytest-django)."""
    transaction = bool(TRANSACTIONAL.search(path.read_text()))
    return pytest.param(
        path, marks=pytest.mark.django_db(transaction=transaction), id=str(path.relative_to(ROOT))
    )


def on_a_live_server(path: Path) -> bool:
    return "live_server" in path.read_text()


@pytest.mark.parametrize(
    "path", [document_param(path) for path in DOCUMENTS if not on_a_live_server(path)]
)
def test_the_snippets_run(path: Path, request: pytest.FixtureRequest) -> None:
    run_document(path, request)


@pytest.mark.parametrize(
    "path", [document_param(path) for path in DOCUMENTS if on_a_live_server(path)]
)
def test_the_snippets_run_on_a_live_server(
    path: Path, live_server: Any, request: pytest.FixtureRequest
) -> None:
    """Asked for here, at collection, so that the plugin prepares the database for it."""
    run_document(path, request)


def run_document(path: Path, request: pytest.FixtureRequest) -> None:
    text = path.read_text()
    assert not BARE_SKIP.search(text), f"{path.name}: a skip directive needs a reason"
    document = SYBIL.parse(path)
    document.namespace["__request__"] = request
    # As in pytest's own doctests: what a hidden setup block asks pytest for.
    document.namespace["getfixture"] = request.getfixturevalue
    document.namespace["__name__"] = f"docs.{path.stem}"
    skipped = []
    for example in document:
        try:
            example.evaluate()
        except SkipTest as skip:
            skipped.append((example.line, str(skip)))
    for line, reason in skipped:
        assert reason.strip(), f"{path.name}:{line}: a skip directive needs a reason"


@pytest.mark.django_db
def test_an_example_without_the_db_mark_gets_no_database(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "```python\n"
        "from django.contrib.auth.models import User\n\n\n"
        "def test_users():\n"
        "    assert User.objects.count() == 0\n"
        "```\n"
    )
    document = SYBIL.parse(page)
    document.namespace["__request__"] = request
    (example,) = document
    with pytest.raises(RuntimeError, match="Database access not allowed"):
        example.evaluate()


def test_a_skip_needs_a_reason() -> None:
    assert BARE_SKIP.search("<!-- skip: next -->\n```python\n1/0\n```\n")
    assert not BARE_SKIP.search('<!-- skip: next "a settings.py excerpt" -->\n')


def test_the_testing_guide_names_every_fixture_of_the_plugin() -> None:
    """docs/testing.md is where a host looks for the plugin: each fixture and option is there."""
    from django_payments_sync.testing import pytest_plugin

    text = (ROOT / "docs" / "testing.md").read_text()
    names = [*pytest_plugin.__all__, pytest_plugin.SQLITE_FILE_OPTION]
    assert [name for name in names if f"`{name}`" not in text] == []
