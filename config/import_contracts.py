"""An import-linter contract for this project's rule that apps talk to each other through doors.

Each app exposes `api.py`; another app may import that module (or the bare package) and nothing else
of it: models, services, selectors and private names stay inside. `lint-imports` (`make lint`) loads
this through `contract_types` in pyproject.toml; tests/test_architecture.py shows that a breach fails.
Only import-linter imports this module.
"""

from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


class AppDoorsContract(Contract):
    """Every import from one app into another must name the other app's door module.

    Configuration:
        apps:  the apps whose insides are protected (top-level packages).
        door:  the name of the door module in each app (default: api).
        allowed_importers: top-level packages that may reach inside (none by default).
    """

    type_name = "app_doors"

    apps = fields.ListField(subfield=fields.StringField())
    door = fields.StringField(required=False, default="api")
    allowed_importers = fields.ListField(subfield=fields.StringField(), required=False, default=[])

    def check(self, graph, verbose: bool) -> ContractCheck:
        apps = set(self.apps)  # type: ignore[arg-type]
        allowed = set(self.allowed_importers or [])  # type: ignore[arg-type]
        breaches = []
        for app in sorted(apps):
            door = f"{app}.{self.door}"
            inside = {app, *graph.find_descendants(app)} - {door}
            importers = graph.find_modules_that_directly_import(app, as_package=True)
            for importer in sorted(importers):
                top = importer.split(".")[0]
                if top == app or top in allowed:
                    continue
                for imported in sorted(graph.find_modules_directly_imported_by(importer) & inside):
                    if imported == app:
                        continue  # `from courses import api`: the package itself (its __init__ is a docstring)
                    lines = [d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)]
                    breaches.append((importer, imported, door, lines))
        return ContractCheck(kept=not breaches, metadata={"breaches": breaches})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for importer, imported, door, lines in check.metadata["breaches"]:
            where = ", ".join(map(str, lines))
            output.print_error(f"- {importer} -> {imported} (l.{where}): import {door} instead", bold=False)
            output.new_line()
