"""The one build step pyproject.toml cannot express: the rulebook ships inside the wheel.

The repository's ``rules/`` stays the only place the rules are edited. Building a wheel (``pip install .``,
``pip wheel .``) copies its YAML and JSON files to ``juzheng/shipped_rules/`` in the build; an editable
install (``pip install -e .``) copies nothing and reads ``rules/`` of its source tree (found through the
install's own record, see ``juzheng.rules.loader``). Everything else is configured in pyproject.toml.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RULES = Path(__file__).resolve().parent / "rules"
SHIPPED = ("juzheng", "shipped_rules")  # keep in step with juzheng.rules.loader.SHIPPED_RULES


class BuildWithRules(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib).joinpath(*SHIPPED)
        if target.exists():
            shutil.rmtree(target)
        for source in sorted(RULES.rglob("*")):
            if source.is_file() and source.suffix in (".yaml", ".json"):
                dest = target / source.relative_to(RULES)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, dest)


setup(cmdclass={"build_py": BuildWithRules})
