"""Check that the Chinese catalog is complete, current and compiled.

``makemessages`` and ``msgfmt`` (GNU gettext) do the reading; this command
only compares what they produce with what is committed. It fails (one line
per problem, exit status 1) when

1. a message that ``makemessages`` finds in the code is missing from the
   committed ``django.po``, untranslated or fuzzy, or the catalog holds a
   message the code no longer uses (``makemessages`` runs on a temporary
   copy of the package; the repository's files are not touched);
2. ``msgfmt --check`` refuses the catalog (a translation whose
   ``%(name)s`` placeholders differ from the English text, a bad header);
3. the committed ``django.mo`` does not hold the messages of the ``.po``
   (compared message by message, not byte by byte).

Run by ``scripts/test``::

    python -m django checkmessages --settings=huitou.settings_test
"""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

LANGUAGE = "zh_Hans"
# What makemessages reads for the django domain, and the catalog itself.
COPIED_SUFFIXES = {".py", ".html", ".txt", ".po"}
FIX_HINT = (
    "To fix: cd huitou && ../.venv/bin/python -m django makemessages -l zh_Hans --no-obsolete "
    "--settings=huitou.settings_test, translate every new or fuzzy entry of "
    "huitou/locale/zh_Hans/LC_MESSAGES/django.po (and remove the fuzzy flag), then "
    "../.venv/bin/python -m django compilemessages -l zh_Hans --settings=huitou.settings_test"
)

Key = tuple[str | None, str]


def catalog_path(package_dir: Path, language: str = LANGUAGE) -> Path:
    return package_dir / "locale" / language / "LC_MESSAGES" / "django.po"


def _copy_sources(package_dir: Path, target: Path) -> None:
    def ignore(directory: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if name == "__pycache__"
            or name.startswith(".")
            or (Path(directory, name).is_file() and Path(name).suffix not in COPIED_SUFFIXES)
        }

    shutil.copytree(package_dir, target, ignore=ignore)


def _current_catalog(package_dir: Path, language: str) -> polib.POFile:
    """The catalog as ``makemessages --no-obsolete`` would leave it: the committed
    translations merged into what the code uses today."""
    with tempfile.TemporaryDirectory(prefix="checkmessages-") as tmp:
        copy = Path(tmp) / package_dir.name
        _copy_sources(package_dir, copy)
        # Only the copy's locale folder: the committed one must stay as it is.
        with override_settings(LOCALE_PATHS=[copy / "locale"]), contextlib.chdir(copy):
            call_command("makemessages", locale=[language], no_obsolete=True, verbosity=0, stdout=io.StringIO())
        return polib.pofile(str(catalog_path(copy, language)))


def _where(entry: polib.POEntry) -> str:
    return ", ".join(f"{path}:{line}" for path, line in entry.occurrences[:3])


def coverage_problems(committed: polib.POFile, current: polib.POFile) -> list[str]:
    problems = []
    if committed.metadata_is_fuzzy:
        problems.append("django.po: the header is marked fuzzy")
    known: dict[Key, polib.POEntry] = {(e.msgctxt, e.msgid): e for e in committed if not e.obsolete}
    used: set[Key] = set()
    for entry in current:
        if entry.obsolete:
            continue
        key = (entry.msgctxt, entry.msgid)
        used.add(key)
        context = f" (context {entry.msgctxt!r})" if entry.msgctxt else ""
        if key not in known:
            problems.append(f"{_where(entry)}: {entry.msgid!r}{context} is not in the catalog")
        elif entry.fuzzy or known[key].fuzzy:
            problems.append(f"{_where(entry)}: {entry.msgid!r}{context} is fuzzy")
        elif not entry.translated():
            problems.append(f"{_where(entry)}: {entry.msgid!r}{context} is untranslated")
    for key, entry in known.items():
        if key not in used:
            problems.append(f"django.po:{entry.linenum}: {entry.msgid!r} is no longer used by the code")
    problems += [f"django.po:{e.linenum}: obsolete entry {e.msgid!r}" for e in committed if e.obsolete]
    return problems


def _messages(mo: polib.MOFile) -> dict[Key, tuple[str, str, tuple[tuple[int, str], ...]]]:
    return {
        (e.msgctxt, e.msgid): (
            e.msgid_plural or "",
            e.msgstr or "",
            tuple(sorted((int(k), v) for k, v in e.msgstr_plural.items())),
        )
        for e in mo
    }


def compiled_problems(po_path: Path) -> list[str]:
    """What ``msgfmt --check`` says of the catalog, and how the committed .mo differs from its output."""
    mo_path = po_path.with_suffix(".mo")
    with tempfile.TemporaryDirectory(prefix="checkmessages-") as tmp:
        compiled = Path(tmp) / "django.mo"
        # GNU gettext's msgfmt, as compilemessages runs it, on a path of ours.
        run = subprocess.run(  # noqa: S603
            ["msgfmt", "--check", "-o", str(compiled), str(po_path)],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            return [line for line in run.stderr.splitlines() if line.strip()]
        expected = _messages(polib.mofile(str(compiled)))
    if not mo_path.is_file():
        return [f"{mo_path.name} is missing: compile the catalog"]
    try:
        committed = _messages(polib.mofile(str(mo_path)))
    except Exception as exc:  # a truncated or foreign file
        return [f"{mo_path.name} cannot be read ({exc})"]
    problems = [f"{mo_path.name} lacks {k[1]!r}: recompile" for k in expected.keys() - committed.keys()]
    problems += [f"{mo_path.name} still has {k[1]!r}: recompile" for k in committed.keys() - expected.keys()]
    problems += [
        f"{mo_path.name} translates {k[1]!r} otherwise than the .po: recompile"
        for k in expected.keys() & committed.keys()
        if expected[k] != committed[k]
    ]
    return sorted(problems)


def catalog_problems(package_dir: Path, language: str = LANGUAGE) -> list[str]:
    """Every problem of the package's catalog for ``language``, as readable lines; empty when all is well."""
    po_path = catalog_path(package_dir, language)
    if not po_path.is_file():
        return [f"{po_path} is missing"]
    committed = polib.pofile(str(po_path))
    problems = coverage_problems(committed, _current_catalog(package_dir, language))
    return problems + compiled_problems(po_path)


class Command(BaseCommand):
    help = "Fail unless the Chinese catalog translates every message of the code and its .mo is compiled from it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--language", default=LANGUAGE)
        parser.add_argument("--package-dir", type=Path, default=Path(settings.BASE_DIR))

    def handle(self, *args: Any, language: str, package_dir: Path, **options: Any) -> None:
        problems = catalog_problems(package_dir, language)
        if problems:
            for problem in problems:
                self.stderr.write(f"  {problem}")
            raise CommandError(f"the {language} catalog has {len(problems)} problem(s). {FIX_HINT}")
        self.stdout.write(f"The {language} catalog is complete, current and compiled.")
