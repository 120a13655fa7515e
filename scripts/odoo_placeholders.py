"""Placeholders for what a trimmed Odoo source lacks, so that databases can be created from it.

Odoo creates an ``ir.module.module`` row (xml id ``base.module_<name>``) for each addon found on
the addons path, and a module category (``base.module_category_<path>``) for each manifest's
category. A source trimmed to fewer addons keeps data that refers to the removed ones (e.g.
``payment`` names each payment provider's module, base names the Timesheets category): loading
that data fails. For each such reference this writes an uninstallable placeholder addon (its
manifest only) under the output folder. A complete source (a git clone of Odoo) needs none.

Usage: python3 odoo_placeholders.py ODOO_SOURCE OUTPUT_FOLDER
"""

import ast
import os
import re
import sys

REF = re.compile(r"""(?:ref=["']|ref\(["']|,)base\.module_([a-z0-9_]+)""")
DEFINED = re.compile(r"""id=["'](?:base\.)?([a-z0-9_]+)["']""")
FILE = re.compile(r"""file=["']([a-z0-9_]+)/([^"']+)["']""")
IMPORT = re.compile(r"^\s*from odoo\.addons\.([a-z0-9_]+)((?:\.[a-z0-9_]+)*) import ([\w, ]+)$", re.M)


def addon_roots(source):
    return [
        path
        for path in (os.path.join(source, "addons"), os.path.join(source, "odoo", "addons"))
        if os.path.isdir(path)
    ]


def slug(category):
    parts = (part.strip().lower() for part in category.split("/"))
    return "_".join(parts).replace("&", "and").replace(" ", "_")


def main(source, output):
    addons, categories, referenced, read_files, imports = set(), set(), set(), set(), set()
    for root in addon_roots(source):
        for name in os.listdir(root):
            manifest = os.path.join(root, name, "__manifest__.py")
            if not os.path.isfile(manifest):
                continue
            addons.add(name)
            with open(manifest, encoding="utf-8") as f:
                category = ast.literal_eval(f.read()).get("category", "Uncategorized")
            parts = category.split("/")
            categories.update(slug("/".join(parts[: i + 1])) for i in range(len(parts)))
            for folder, _dirs, files in os.walk(os.path.join(root, name)):
                for file_name in files:
                    if file_name.endswith(".py"):
                        with open(os.path.join(folder, file_name), encoding="utf-8", errors="replace") as f:
                            for module, path, names in IMPORT.findall(f.read()):
                                imports.update((module, path, n.strip()) for n in names.split(","))
                    if file_name.endswith((".xml", ".csv")):
                        with open(os.path.join(folder, file_name), encoding="utf-8", errors="replace") as f:
                            text = f.read()
                        referenced.update(REF.findall(text))
                        read_files.update(FILE.findall(text))
    defined = set()
    base = os.path.join(source, "odoo", "addons", "base")
    for folder, _dirs, files in os.walk(base):
        for file_name in files:
            if file_name.endswith(".xml"):
                with open(os.path.join(folder, file_name), encoding="utf-8") as f:
                    defined.update(DEFINED.findall(f.read()))
    # Python imports of a missing addon by an addon that is there (Odoo 19: account imports
    # base_vat's table of VAT examples, and its tests, which Odoo imports with --test-enable,
    # import data of Odoo's own test addons): a package whose names are empty mappings.
    referenced.update(module for module, _path, _name in imports if module not in addons)
    for ref in sorted(referenced):
        if f"module_{ref}" in defined:
            continue
        if ref.startswith("category_"):
            if ref[len("category_") :] in categories:
                continue
            path = "/".join(part.replace("_", " ").title() for part in ref[len("category_") :].split("_", 1))
            name, category = f"aia_odoo_{ref}", path
        elif ref in addons:
            continue
        else:
            name, category = ref, "Hidden"
        os.makedirs(os.path.join(output, name), exist_ok=True)
        open(os.path.join(output, name, "__init__.py"), "w").close()
        manifest = {
            "name": f"{name} (not in this Odoo source)",
            "category": category,
            "installable": False,
            "author": "placeholder",
            "license": "LGPL-3",
            "description": "Made by scripts/setup.sh: this Odoo source refers to it and lacks it.",
        }
        with open(os.path.join(output, name, "__manifest__.py"), "w", encoding="utf-8") as f:
            f.write(repr(manifest) + "\n")
        for module, path, imported in sorted(imports):
            if module == name:
                package = os.path.join(output, name, *path.strip(".").split(".")[:-1])
                target = os.path.join(output, name, *path.strip(".").split(".")) + ".py"
                while package != os.path.join(output, name):
                    os.makedirs(package, exist_ok=True)
                    open(os.path.join(package, "__init__.py"), "a").close()
                    package = os.path.dirname(package)
                with open(target, "a", encoding="utf-8") as f:
                    f.write(f"{imported} = {{}}\n")
        # Files the source's data reads from the missing addon (e.g. a provider's icon).
        for module, path in read_files:
            if module == name:
                target = os.path.join(output, name, path)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                icon = os.path.join(base, "static", "description", "icon.png")
                stand_in = icon if path.endswith(".png") else os.devnull
                with open(stand_in, "rb") as src, open(target, "wb") as dst:
                    dst.write(src.read())
        print(f"== setup: placeholder for {name} (category {category}), which this Odoo source lacks")


if __name__ == "__main__":
    main(*sys.argv[1:3])
