"""Check that the Simplified Chinese catalog is complete, compiled and current.

Runs without GNU gettext (only ``polib`` and Django), so it works on any
machine the tests run on::

    python -m huitou.lib.i18ncheck

It fails (exit status 1, one line per problem) when

1. the zh_Hans ``django.po`` has an untranslated or fuzzy entry, a fuzzy
   header, or a translation whose ``%(name)s`` placeholders differ from the
   English text;
2. the committed ``django.mo`` does not hold the same messages as the
   ``.po`` (the ``.po`` is compiled in memory with polib and both message
   sets are compared entry by entry, not byte by byte);
3. a msgid used in the code is not in the ``.po``: ``{% translate %}``,
   ``{% blocktranslate %}`` (with plural and context) and ``_()`` in
   templates, read through Django's own ``templatize``; ``gettext`` and
   friends called with string literals in Python files, read with ``ast``.
   Every ``.html``, ``.txt`` and ``.py`` file of the package is scanned
   except migrations and tests.

To fix: run ``makemessages``, translate the new entries, then
``compilemessages``; the failure message gives the exact commands.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polib

PACKAGE_DIR = Path(__file__).resolve().parent.parent
LANGUAGE = "zh_Hans"
NPLURALS = 1

TEMPLATE_SUFFIXES = {".html", ".txt"}
SKIPPED_DIRS = {"migrations", "tests", "locale", "__pycache__", "node_modules"}

# Python callables whose string arguments makemessages extracts, and what each
# argument is: "c" context, "s" singular msgid, "p" plural msgid.
PYTHON_KEYWORDS: dict[str, str] = {
    "_": "s",
    "gettext": "s",
    "gettext_lazy": "s",
    "gettext_noop": "s",
    "ngettext": "sp",
    "ngettext_lazy": "sp",
    "pgettext": "cs",
    "pgettext_lazy": "cs",
    "npgettext": "csp",
    "npgettext_lazy": "csp",
}
# What django.utils.translation.template.templatize emits for templates.
TEMPLATE_KEYWORDS: dict[str, str] = {
    "_": "s",
    "gettext": "s",
    "ngettext": "sp",
    "pgettext": "cs",
    "npgettext": "csp",
}

_TEMPLATE_CALL = re.compile(r"(?<![\w.])(" + "|".join(TEMPLATE_KEYWORDS) + r")\(")
_STRING_LITERAL = re.compile(r"""\s*([uUbBrR]{0,2}(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))\s*(,?)""")
_PYTHON_FORMAT = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?[diouxXeEfFgGcrsa%]")

FIX_HINT = (
    "To fix: cd huitou && ../.venv/bin/python -m django makemessages -l zh_Hans "
    "--settings=huitou.settings_test, translate every entry of "
    "huitou/locale/zh_Hans/LC_MESSAGES/django.po (no fuzzy), then "
    "../.venv/bin/python -m django compilemessages -l zh_Hans --settings=huitou.settings_test."
)


@dataclass(frozen=True)
class Use:
    """One msgid used in the code, and where."""

    msgid: str
    msgctxt: str | None
    msgid_plural: str | None
    where: str


def catalog_paths(locale_dir: Path, language: str = LANGUAGE) -> tuple[Path, Path]:
    base = locale_dir / language / "LC_MESSAGES"
    return base / "django.po", base / "django.mo"


# -- (a) the catalog is fully translated ----------------------------------


def _format_ok(english: str, translated: str) -> str | None:
    """Why ``translated`` cannot stand in for the python-format ``english``, or None."""
    names = {m.group("name") for m in _PYTHON_FORMAT.finditer(english) if m.group("name") is not None}
    found = {m.group("name") for m in _PYTHON_FORMAT.finditer(translated) if m.group("name") is not None}
    if names != found:
        return f"placeholders {sorted(found)} instead of {sorted(names)}"

    class _AnyKey(dict[str, Any]):
        def __missing__(self, key: str) -> int:
            return 0

    try:
        if names or "%(" in translated:
            translated % _AnyKey()  # noqa: B018
        else:
            positional = [m for m in _PYTHON_FORMAT.finditer(english) if m.group(0) != "%%"]
            translated % tuple(0 for _ in positional)  # noqa: B018
    except (ValueError, TypeError, KeyError) as exc:
        return f"not a valid format string ({exc})"
    return None


def check_translations(po: polib.POFile, po_path: Path) -> list[str]:
    problems: list[str] = []
    if po.metadata_is_fuzzy:
        problems.append(f"{po_path}: the header is marked fuzzy")
    plural_forms = po.metadata.get("Plural-Forms", "")
    if not "".join(plural_forms.split()).startswith(f"nplurals={NPLURALS};"):
        problems.append(
            f"{po_path}: header Plural-Forms should be 'nplurals={NPLURALS}; plural=0;', not {plural_forms!r}"
        )
    if "charset=UTF-8" not in po.metadata.get("Content-Type", ""):
        problems.append(f"{po_path}: header Content-Type should declare charset=UTF-8")
    for entry in po:
        if entry.obsolete:
            continue
        where = f"{po_path}:{entry.linenum}"
        if entry.fuzzy:
            problems.append(f"{where}: fuzzy entry {entry.msgid!r}")
            continue
        if not entry.translated():
            problems.append(f"{where}: untranslated entry {entry.msgid!r}")
            continue
        if entry.msgid_plural:
            forms = [(i, entry.msgstr_plural.get(i, "")) for i in range(NPLURALS)]
            for i, form in forms:
                if not form:
                    problems.append(f"{where}: plural entry {entry.msgid!r} has no msgstr[{i}]")
        if "python-format" in entry.flags:
            english = entry.msgid_plural or entry.msgid
            texts = [entry.msgstr] if not entry.msgid_plural else list(entry.msgstr_plural.values())
            for text in texts:
                why = _format_ok(english, text)
                if why:
                    problems.append(f"{where}: translation of {entry.msgid!r} has {why}")
    return problems


# -- (b) the committed .mo matches the .po --------------------------------


def _messages(mo: polib.MOFile) -> dict[tuple[str | None, str], tuple[str, str, tuple[tuple[int, str], ...]]]:
    return {
        (e.msgctxt, e.msgid): (
            e.msgid_plural or "",
            e.msgstr or "",
            tuple(sorted((int(k), v) for k, v in e.msgstr_plural.items())),
        )
        for e in mo
    }


def check_compiled(po: polib.POFile, mo_path: Path) -> list[str]:
    if not mo_path.is_file():
        return [f"{mo_path}: missing; compile the catalog"]
    try:
        committed = polib.mofile(str(mo_path))
    except Exception as exc:  # a truncated or foreign file
        return [f"{mo_path}: cannot be read ({exc})"]
    expected = polib.mofile(po.to_binary())
    want, have = _messages(expected), _messages(committed)
    problems: list[str] = []
    for key in sorted(want.keys() - have.keys(), key=str):
        problems.append(f"{mo_path}: lacks {key[1]!r}; recompile")
    for key in sorted(have.keys() - want.keys(), key=str):
        problems.append(f"{mo_path}: has {key[1]!r}, which the .po does not translate; recompile")
    for key in sorted(want.keys() & have.keys(), key=str):
        if want[key] != have[key]:
            problems.append(f"{mo_path}: translation of {key[1]!r} differs from the .po; recompile")
    for field in ("Plural-Forms", "Content-Type"):
        if expected.metadata.get(field) != committed.metadata.get(field):
            problems.append(f"{mo_path}: header {field} differs from the .po; recompile")
    return problems


# -- (c) every msgid used in the code is in the .po -------------------------


def source_files(package_dir: Path) -> Iterator[Path]:
    for path in sorted(package_dir.rglob("*")):
        rel = path.relative_to(package_dir)
        if any(part in SKIPPED_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if not path.is_file():
            continue
        if path.suffix == ".py":
            if path.name.startswith("test_") or path.name == "conftest.py":
                continue
            yield path
        elif path.suffix in TEMPLATE_SUFFIXES:
            yield path


def _use(spec: str, args: list[str], where: str) -> Use | None:
    if len(args) < len(spec):
        return None
    values = dict(zip(spec, args, strict=False))
    return Use(msgid=values["s"], msgctxt=values.get("c"), msgid_plural=values.get("p"), where=where)


def python_uses(source: str, filename: str) -> Iterator[Use]:
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id
        elif isinstance(func, ast.Attribute) and func.attr != "_":
            name = func.attr
        else:
            continue
        spec = PYTHON_KEYWORDS.get(name)
        if spec is None:
            continue
        args: list[str] = []
        for arg in node.args[: len(spec)]:
            if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                break
            args.append(arg.value)
        use = _use(spec, args, f"{filename}:{node.lineno}")
        if use:
            yield use


def template_uses(source: str, filename: str) -> Iterator[Use]:
    from django.utils.translation.template import templatize

    code = templatize(source, origin=filename)
    for match in _TEMPLATE_CALL.finditer(code):
        spec = TEMPLATE_KEYWORDS[match.group(1)]
        args: list[str] = []
        pos = match.end()
        while len(args) < len(spec):
            literal = _STRING_LITERAL.match(code, pos)
            if not literal:
                break
            args.append(ast.literal_eval(literal.group(1)))
            pos = literal.end()
            if not literal.group(2):
                break
        line = code.count("\n", 0, match.start()) + 1
        use = _use(spec, args, f"{filename}:{line}")
        if use:
            yield use


def code_uses(package_dir: Path) -> tuple[list[Use], list[str]]:
    uses: list[Use] = []
    problems: list[str] = []
    for path in source_files(package_dir):
        rel = str(path.relative_to(package_dir.parent))
        try:
            source = path.read_text(encoding="utf-8")
            reader = python_uses if path.suffix == ".py" else template_uses
            uses.extend(reader(source, rel))
        except (SyntaxError, UnicodeDecodeError, ValueError) as exc:
            problems.append(f"{rel}: cannot be read for messages ({exc})")
        except Exception as exc:  # TemplateSyntaxError and the like
            problems.append(f"{rel}: cannot be read for messages ({type(exc).__name__}: {exc})")
    return uses, problems


def check_coverage(po: polib.POFile, uses: Iterable[Use]) -> list[str]:
    known = {(e.msgctxt, e.msgid): e for e in po if not e.obsolete and e.msgid}
    problems: list[str] = []
    reported: set[tuple[str | None, str, str]] = set()
    for use in uses:
        entry = known.get((use.msgctxt, use.msgid))
        if entry is None:
            fault = "is not in the catalog"
        elif use.msgid_plural and not entry.msgid_plural:
            fault = "is used with a plural the catalog lacks"
        else:
            continue
        if (use.msgctxt, use.msgid, fault) in reported:
            continue  # reported once, at its first use
        reported.add((use.msgctxt, use.msgid, fault))
        context = f" (context {use.msgctxt!r})" if use.msgctxt else ""
        problems.append(f"{use.where}: {use.msgid!r}{context} {fault}")
    return problems


# -- all together ---------------------------------------------------------


def check(package_dir: Path = PACKAGE_DIR, locale_dir: Path | None = None, language: str = LANGUAGE) -> list[str]:
    """Every problem found, as readable lines; empty when all is well."""
    locale_dir = locale_dir if locale_dir is not None else package_dir / "locale"
    po_path, mo_path = catalog_paths(locale_dir, language)
    if not po_path.is_file():
        return [f"{po_path}: missing"]
    try:
        po = polib.pofile(str(po_path))
    except (OSError, ValueError) as exc:
        return [f"{po_path}: cannot be read ({exc})"]
    problems = check_translations(po, po_path)
    problems += check_compiled(po, mo_path)
    uses, unreadable = code_uses(package_dir)
    problems += unreadable
    problems += check_coverage(po, uses)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m huitou.lib.i18ncheck", description=__doc__.splitlines()[0])
    parser.add_argument("--package-dir", type=Path, default=PACKAGE_DIR, help="the huitou package to scan")
    parser.add_argument("--locale-dir", type=Path, default=None, help="default: <package-dir>/locale")
    parser.add_argument("--language", default=LANGUAGE)
    options = parser.parse_args(argv)
    problems = check(options.package_dir, options.locale_dir, options.language)
    if problems:
        print(f"i18n check failed: {len(problems)} problem(s) in the {options.language} catalog", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(FIX_HINT, file=sys.stderr)
        return 1
    print(f"i18n check: the {options.language} catalog is complete, compiled and current")
    return 0


if __name__ == "__main__":
    sys.exit(main())
