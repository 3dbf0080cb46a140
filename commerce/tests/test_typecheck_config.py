"""The mypy gate's configuration stays what the README says: strict on every app's services and selectors
and on the assistant package, whatever modules are added later, and no silenced error without a reason."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatchcase
from pathlib import Path

from django.conf import settings
from mypy.main import define_options
from mypy.options import PER_MODULE_OPTIONS

BASE = Path(settings.BASE_DIR)
SKIPPED_PARTS = {".venv", "tests", "migrations", "node_modules"}
IGNORE_WITH_REASON = re.compile(r"#\s*type:\s*ignore\[[a-z-]+(?:,\s*[a-z-]+)*\]\s+#\s*\S")


def _mypy_config() -> dict:
    with (BASE / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)["tool"]["mypy"]


def _strict_section(config: dict) -> dict:
    sections = [s for s in config["overrides"] if "conversations.assistant.*" in s["module"]]
    assert len(sections) == 1, "one override section names the strict modules"
    return sections[0]


def _module_name(path: Path) -> str:
    parts = path.relative_to(BASE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _project_modules() -> list[tuple[str, Path]]:
    return [
        (_module_name(path), path)
        for path in BASE.rglob("*.py")
        if not SKIPPED_PARTS & set(path.relative_to(BASE).parts)
    ]


def _is_strict(module: str, patterns: list[str]) -> bool:
    return any(module == p or (p.endswith(".*") and fnmatchcase(module, p)) for p in patterns)


def test_every_services_and_selectors_module_and_the_assistant_package_are_strict():
    config = _mypy_config()
    patterns = _strict_section(config)["module"]
    wanted = [
        module
        for module, path in _project_modules()
        if path.name in {"services.py", "selectors.py"} or module.startswith("conversations.assistant")
    ]
    assert len(wanted) > 40
    assert [m for m in wanted if not _is_strict(m, patterns)] == []
    assert config["strict"] is True


def test_the_strict_section_sets_every_per_module_flag_of_mypy_strict():
    _, _, strict_assignments = define_options()
    section = _strict_section(_mypy_config())
    expected = {dest: value for dest, value in strict_assignments if dest in PER_MODULE_OPTIONS}
    assert {key: section.get(key) for key in expected} == expected
    assert "ignore_errors" not in section
    assert "ignore-without-code" in section.get("enable_error_code", [])


def test_every_type_ignore_in_the_strict_modules_names_its_error_code_and_a_reason():
    patterns = _strict_section(_mypy_config())["module"]
    unexplained = [
        f"{path.relative_to(BASE)}:{number}"
        for module, path in _project_modules()
        if _is_strict(module, patterns)
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "type: ignore" in line and not IGNORE_WITH_REASON.search(line)
    ]
    assert unexplained == []
