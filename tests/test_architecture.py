"""The house rules of ../shared/ARCHITECTURE.md, checked on the source: stage packages that import only the
stages before them, no import circle (imports inside functions and under TYPE_CHECKING count), a data contract
and a value vocabulary that import no stage, and modules and functions a reader can hold in mind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "reportgen"
# the pipeline's order: a stage imports the shared modules and the stages before it, never one after it
STAGES = ("inputs", "cleaning", "segmentation", "describe", "report", "archive", "delivery")
SHARED = ("model", "values", "errors", "settings", "version")  # what every stage may import
ENGINE_STAGES = ("inputs", "cleaning", "segmentation", "describe")  # what an engine implements
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def module_name(path: Path) -> str:
    parts = ["reportgen", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path) -> set[str]:
    """Every reportgen module ``path`` imports, anywhere in it (``from . import x`` names the submodule x)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("reportgen"):
                continue
            for alias in node.names:
                found.add(f"{target}.{alias.name}" if f"{target}.{alias.name}" in MODULES else target)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("reportgen")}
    return {target for target in found if target in MODULES and target != name}


GRAPH = {name: imports_of(path) for name, path in MODULES.items()}


def stage_of(module: str) -> str:
    """The first part below reportgen: a stage package, a shared module, or a top-level one (cli, pipeline ...)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_import_circle() -> None:
    """Tarjan's strongly connected components of the import graph: every one a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in GRAPH[module]:
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not circles, circles


@pytest.mark.parametrize("module", sorted(m for m in MODULES if stage_of(m) in (*STAGES, "engines", *SHARED)))
def test_a_stage_imports_only_the_stages_before_it(module: str) -> None:
    stage = stage_of(module)
    if stage in ("model", "errors", "version"):
        allowed: tuple[str, ...] = ("model", "errors")  # the contract imports no stage
    elif stage == "values":
        allowed = ("model", "errors")
    elif stage == "settings":
        allowed = ("model", "errors", "values")
    elif stage == "engines":
        allowed = (*SHARED, *ENGINE_STAGES, "engines")
    else:
        allowed = (*SHARED, *STAGES[:STAGES.index(stage) + 1])
    wrong = sorted(target for target in GRAPH[module] if stage_of(target) not in allowed)
    assert not wrong, f"{module} ({stage}) imports {wrong}"


def test_the_contract_imports_only_numpy_and_pandas_types() -> None:
    """model depends on nothing but the standard library (and numpy/pandas, for annotations only)."""
    for name, path in MODULES.items():
        if stage_of(name) != "model":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                outside = [a.name for a in node.names if a.name.split(".")[0] not in ("numpy", "pandas", "math")]
                assert not outside, f"{name} imports {outside}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_and_functions_stay_small(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count("\n") <= MAX_MODULE_LINES, f"{path.name}: {text.count(chr(10))} lines"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)" for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, long


def test_the_top_level_holds_only_what_every_stage_shares_and_what_a_user_calls() -> None:
    top = {path.stem for path in PACKAGE.glob("*.py")} | {path.name for path in PACKAGE.iterdir()
                                                          if path.is_dir() and (path / "__init__.py").exists()}
    assert top == {"__init__", "__main__", "version", "cli", "pipeline", "settings", "plan", "model", "values",
                   "errors", *STAGES, "engines"}


# ----------------------------------------------------------------------------- each table the one source of its names
README = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")


def readme_row(option: str) -> str:
    """The README options table's row of ``option``."""
    return next(line for line in README.splitlines() if line.startswith(f"| `{option}"))


def test_the_choices_are_the_tables_keys() -> None:
    """The Literals of settings, the CLI's choices and the README's option rows name the entries of ALGORITHMS and
    ENGINES, no more and no fewer."""
    from typing import get_args

    import click

    from reportgen.cli import cli
    from reportgen.engines import ENGINES
    from reportgen.segmentation.algorithms import ALGORITHMS
    from reportgen.settings import AlgorithmName, EngineName

    assert get_args(AlgorithmName) == tuple(ALGORITHMS)
    assert get_args(EngineName) == tuple(ENGINES)
    options = {p.name: p for p in cli.commands["run"].params}
    for option, table in (("algorithm", ALGORITHMS), ("engine", ENGINES)):
        choice = options[option].type
        assert isinstance(choice, click.Choice) and tuple(choice.choices) == tuple(table)
        row = readme_row(f"--{option}")
        assert all(f"`{key}`" in row or f"{key}\\|" in row or f"\\|{key}" in row for key in table), row
    help_text = " ".join(options["algorithm"].help.split())
    assert all(key in help_text for key in ALGORITHMS), help_text


def test_the_readers_are_named_where_a_user_reads_about_inputs() -> None:
    from click.testing import CliRunner

    from reportgen.cli import cli
    from reportgen.inputs.readers import READERS

    run_help = " ".join(CliRunner().invoke(cli, ["run", "--help"]).output.split())
    data = next(p for p in README.split("\n\n") if p.startswith("DATA is"))
    for reader in READERS:
        kind = reader.label.split()[1]  # "a CSV or TSV file" -> CSV
        assert kind in run_help and kind in data, reader.name
        assert all(extension in README for extension in reader.extensions[:1]), reader.name


def test_the_indices_are_named_in_the_readme() -> None:
    from reportgen.segmentation.indices import INDICES

    assert all(index.info.name.lower() in README.lower() for index in INDICES)


BY_NAME = {"algorithm": "ALGORITHMS", "engine": "ENGINES", "name": "READERS", "format": "READERS"}


def test_behaviour_is_chosen_by_a_flag_never_by_an_entrys_name() -> None:
    """No ``settings.algorithm == "kprototypes"`` or ``reader.name == "csv"`` in the package: a flag on the table's
    entry says what differs."""
    from reportgen.engines import ENGINES
    from reportgen.inputs.readers import READERS
    from reportgen.segmentation.algorithms import ALGORITHMS

    keys = set(ALGORITHMS) | set(ENGINES) | {reader.name for reader in READERS}
    found = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Compare) or not isinstance(node.left, ast.Attribute):
                continue
            if node.left.attr not in BY_NAME:
                continue
            for right in node.comparators:
                values = right.elts if isinstance(right, ast.Tuple | ast.List | ast.Set) else [right]
                if any(isinstance(v, ast.Constant) and v.value in keys for v in values):
                    found.append(f"{name}:{node.lineno} {ast.unparse(node)}")
    assert not found, found
