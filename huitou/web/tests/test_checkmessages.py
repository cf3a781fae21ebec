"""``checkmessages``: the Chinese catalog translates every message makemessages finds, and is compiled."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError

from huitou.web.management.commands.checkmessages import catalog_path, catalog_problems

PAGE = """{% load i18n %}<h1>{% translate "Sign in" %}</h1>
{% blocktranslate count n=3 %}{{ n }} tyre set{% plural %}{{ n }} tyre sets{% endblocktranslate %}
{% translate "Open" context "shop hours" %}
"""
VIEWS = """from django.utils.translation import gettext_lazy as _

EDIT = _("Edit %(name)s")
"""
TRANSLATIONS: list[dict[str, Any]] = [
    {"msgid": "Sign in", "msgstr": "登录"},
    {"msgid": "%(n)s tyre set", "msgid_plural": "%(n)s tyre sets", "msgstr_plural": {0: "%(n)s 套轮胎"}},
    {"msgid": "Open", "msgctxt": "shop hours", "msgstr": "营业"},
    {"msgid": "Edit %(name)s", "msgstr": "编辑 %(name)s"},
]


def _compile(package: Path) -> None:
    po = catalog_path(package)
    subprocess.run(["msgfmt", "-o", str(po.with_suffix(".mo")), str(po)], check=True)  # noqa: S607


def _edit(package: Path, msgid: str, **changes: Any) -> None:
    path = catalog_path(package)
    po = polib.pofile(str(path))
    entry = po.find(msgid)
    assert entry is not None
    for name, value in changes.items():
        setattr(entry, name, value)
    po.save(str(path))


@pytest.fixture
def package(tmp_path: Path) -> Path:
    """A small package with a template, a module and a complete, compiled catalog."""
    package = tmp_path / "pkg"
    (package / "shop" / "templates").mkdir(parents=True)
    (package / "shop" / "templates" / "page.html").write_text(PAGE, encoding="utf-8")
    (package / "shop" / "views.py").write_text(VIEWS, encoding="utf-8")
    po = polib.POFile()
    po.metadata = {
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Language": "zh_Hans",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    for entry in TRANSLATIONS:
        flags = ["python-format"] if "%(" in entry["msgid"] else []
        po.append(polib.POEntry(flags=flags, **entry))
    catalog_path(package).parent.mkdir(parents=True)
    po.save(str(catalog_path(package)))
    _compile(package)
    return package


def test_a_complete_compiled_catalog_passes(package: Path) -> None:
    assert catalog_problems(package) == []


def test_the_check_leaves_the_catalog_as_it_was(package: Path) -> None:
    (package / "shop" / "forms.py").write_text('from django.utils.translation import gettext as _\n_("Tyres")\n')
    before = catalog_path(package).read_bytes()

    assert catalog_problems(package)

    assert catalog_path(package).read_bytes() == before
    assert sorted(p.name for p in catalog_path(package).parent.iterdir()) == ["django.mo", "django.po"]


def test_it_finds_a_message_missing_from_the_catalog_and_says_where_it_is_used(package: Path) -> None:
    (package / "shop" / "templates" / "page.html").write_text(PAGE + '<p>{% translate "Tyre storage" %}</p>\n')

    assert catalog_problems(package) == ["shop/templates/page.html:4: 'Tyre storage' is not in the catalog"]


def test_it_finds_an_untranslated_message(package: Path) -> None:
    _edit(package, "Sign in", msgstr="")
    _compile(package)

    assert catalog_problems(package) == ["shop/templates/page.html:1: 'Sign in' is untranslated"]


def test_it_finds_an_untranslated_plural(package: Path) -> None:
    _edit(package, "%(n)s tyre set", msgstr_plural={0: ""})
    _compile(package)

    assert catalog_problems(package) == ["shop/templates/page.html:2: '%(n)s tyre set' is untranslated"]


def test_it_finds_a_fuzzy_message_and_a_fuzzy_header(package: Path) -> None:
    _edit(package, "Sign in", flags=["fuzzy"])
    path = catalog_path(package)
    po = polib.pofile(str(path))
    po.metadata_is_fuzzy = True
    po.save(str(path))

    problems = catalog_problems(package)

    assert "django.po: the header is marked fuzzy" in problems
    assert "shop/templates/page.html:1: 'Sign in' is fuzzy" in problems


def test_it_finds_a_message_the_code_no_longer_uses(package: Path) -> None:
    (package / "shop" / "views.py").write_text("EDIT = 'Edit'\n")

    problems = catalog_problems(package)

    assert len(problems) == 1
    assert problems[0].endswith("'Edit %(name)s' is no longer used by the code")


def test_it_finds_a_translation_with_other_placeholders(package: Path) -> None:
    _edit(package, "Edit %(name)s", msgstr="编辑 %(nom)s")

    problems = catalog_problems(package)

    assert any("'name'" in p and "msgstr" in p for p in problems), problems


def test_it_finds_a_compiled_catalog_that_is_not_the_catalogs(package: Path) -> None:
    _edit(package, "Sign in", msgstr="登入")  # translated, but the .mo still says 登录

    assert catalog_problems(package) == ["django.mo translates 'Sign in' otherwise than the .po: recompile"]


def test_it_finds_a_missing_compiled_catalog(package: Path) -> None:
    catalog_path(package).with_suffix(".mo").unlink()

    assert catalog_problems(package) == ["django.mo is missing: compile the catalog"]


def test_the_command_lists_the_problems_and_how_to_fix_them(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(package, "Sign in", msgstr="")
    _compile(package)

    with pytest.raises(CommandError, match="1 problem.*makemessages -l zh_Hans --no-obsolete"):
        call_command("checkmessages", package_dir=package)

    assert "'Sign in' is untranslated" in capsys.readouterr().err


def test_the_command_says_so_when_all_is_well(package: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("checkmessages", package_dir=package)

    assert "complete" in capsys.readouterr().out


def test_the_repositorys_catalog_is_complete_current_and_compiled() -> None:
    assert catalog_problems(Path(settings.BASE_DIR)) == []


def test_the_check_needs_gnu_gettext() -> None:
    assert shutil.which("msgfmt") and shutil.which("xgettext"), "install gettext (apt-get install gettext)"
