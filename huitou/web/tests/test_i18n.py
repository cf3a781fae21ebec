"""Translations: the Chinese catalog is complete and compiled, and pages speak it by default."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import polib
import pytest
from django.test import Client
from django.utils import translation

from huitou.customers import errors
from huitou.lib import i18ncheck
from huitou.lib.i18ncheck import PACKAGE_DIR, check, main

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def locale_copy(tmp_path: Path) -> Path:
    """A copy of huitou/locale to spoil; the repository's files stay as they are."""
    copy = tmp_path / "locale"
    shutil.copytree(PACKAGE_DIR / "locale", copy)
    return copy


def _po_path(locale_dir: Path) -> Path:
    return i18ncheck.catalog_paths(locale_dir)[0]


def _edit(locale_dir: Path, msgid: str, **changes: Any) -> None:
    path = _po_path(locale_dir)
    po = polib.pofile(str(path))
    entry = po.find(msgid)
    assert entry is not None, f"{msgid!r} should be in the catalog"
    for name, value in changes.items():
        setattr(entry, name, value)
    po.save(str(path))


# -- the check ------------------------------------------------------------


def test_the_check_passes_on_the_repository() -> None:
    assert check() == []


def test_the_command_exits_0_on_the_repository(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 0
    assert "complete" in capsys.readouterr().out


def test_the_check_finds_an_untranslated_entry(locale_copy: Path) -> None:
    _edit(locale_copy, "Sign in", msgstr="")

    problems = check(locale_dir=locale_copy)

    assert any("untranslated entry 'Sign in'" in p for p in problems), problems


def test_the_command_lists_the_problems_and_exits_1(locale_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit(locale_copy, "Sign in", msgstr="")

    assert main(["--locale-dir", str(locale_copy)]) == 1

    err = capsys.readouterr().err
    assert "i18n check failed" in err
    assert "untranslated entry 'Sign in'" in err
    assert "makemessages" in err


def test_the_check_finds_a_fuzzy_entry_and_a_fuzzy_header(locale_copy: Path) -> None:
    _edit(locale_copy, "Sign out", flags=["fuzzy"])
    path = _po_path(locale_copy)
    po = polib.pofile(str(path))
    po.metadata_is_fuzzy = True
    po.save(str(path))

    problems = check(locale_dir=locale_copy)

    assert any("fuzzy entry 'Sign out'" in p for p in problems), problems
    assert any("header is marked fuzzy" in p for p in problems), problems


def test_the_check_finds_an_untranslated_plural(locale_copy: Path) -> None:
    _edit(locale_copy, "%(n)s customer", msgstr_plural={0: ""})

    problems = check(locale_dir=locale_copy)

    assert any("'%(n)s customer'" in p for p in problems), problems


def test_the_check_finds_a_broken_placeholder(locale_copy: Path) -> None:
    _edit(locale_copy, "Edit %(name)s", msgstr="编辑 %(nom)s")

    problems = check(locale_dir=locale_copy)

    assert any("'Edit %(name)s'" in p and "placeholders" in p for p in problems), problems


def test_the_check_finds_a_stale_compiled_catalog(locale_copy: Path) -> None:
    _edit(locale_copy, "Sign out", msgstr="注销")  # translated, but the .mo still says otherwise

    problems = check(locale_dir=locale_copy)

    assert any(".mo" in p and "'Sign out'" in p and "recompile" in p for p in problems), problems
    assert not any("untranslated" in p for p in problems), problems


def test_the_check_finds_a_missing_compiled_catalog(locale_copy: Path) -> None:
    i18ncheck.catalog_paths(locale_copy)[1].unlink()

    assert any("django.mo: missing" in p for p in check(locale_dir=locale_copy))


def test_the_check_finds_msgids_missing_from_the_catalog(tmp_path: Path, locale_copy: Path) -> None:
    package = tmp_path / "pkg"
    (package / "shop" / "templates").mkdir(parents=True)
    (package / "shop" / "tests").mkdir()
    (package / "shop" / "migrations").mkdir()
    (package / "shop" / "templates" / "page.html").write_text(
        "{% load i18n %}<h1>{% translate 'Sign in' %}</h1>\n"
        '<p>{% translate "Tyre storage" %}</p>\n'
        "{% blocktranslate count n=3 %}{{ n }} tyre set{% plural %}{{ n }} tyre sets{% endblocktranslate %}\n"
        '{% translate "Open" context "shop hours" %}\n'
        '{{ value|default:_("Nothing stored") }}\n',
        encoding="utf-8",
    )
    (package / "shop" / "views.py").write_text(
        "from django.utils.translation import gettext_lazy as _, ngettext, pgettext\n"
        "A = _('Sign out')\n"
        "B = _('Seasonal tyre change')\n"
        "C = ngettext('%(n)s wheel', '%(n)s wheels', 2)\n"
        "D = pgettext('wheel', 'Balance')\n",
        encoding="utf-8",
    )
    (package / "shop" / "tests" / "test_views.py").write_text("_('Only in a test')\n", encoding="utf-8")
    (package / "shop" / "migrations" / "0001_initial.py").write_text("_('Only in a migration')\n", encoding="utf-8")

    problems = check(package_dir=package, locale_dir=locale_copy)
    text = "\n".join(problems)

    for msgid in ("Tyre storage", "%(n)s tyre set", "Nothing stored", "Seasonal tyre change", "%(n)s wheel"):
        assert f"{msgid!r} is not in the catalog" in text, text
    assert "'Open' (context 'shop hours') is not in the catalog" in text
    assert "'Balance' (context 'wheel') is not in the catalog" in text
    assert "page.html:2" in text and "views.py:3" in text, "each problem says where the msgid is used"
    for known in ("'Sign in'", "'Sign out'"):
        assert known not in text
    assert "Only in a test" not in text and "Only in a migration" not in text
    assert len(problems) == 7, text


def test_the_check_reads_every_msgid_that_makemessages_put_in_the_catalog() -> None:
    uses, unreadable = i18ncheck.code_uses(PACKAGE_DIR)
    po = polib.pofile(str(_po_path(PACKAGE_DIR / "locale")))

    assert unreadable == []
    in_catalog = {(e.msgctxt, e.msgid) for e in po if not e.obsolete}
    in_code = {(u.msgctxt, u.msgid) for u in uses}
    assert in_catalog <= in_code, f"the check misses how these are used: {in_catalog - in_code}"


# -- the pages ------------------------------------------------------------


@pytest.mark.django_db
def test_pages_are_in_chinese_by_default() -> None:
    r = Client().get("/login/")

    html = r.content.decode()
    assert r.status_code == 200
    assert '<html lang="zh-CN">' in html
    assert "登录" in html
    assert "回头客" in html
    assert "Sign in" not in html


@pytest.mark.django_db
def test_the_language_switch_turns_pages_english() -> None:
    client = Client()
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert r.status_code == 302

    html = client.get("/login/").content.decode()

    assert '<html lang="en">' in html
    assert "Sign in" in html
    assert "登录" not in html

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    assert "登录" in client.get("/login/").content.decode()


@pytest.mark.django_db
def test_a_browser_asking_for_english_gets_english() -> None:
    html = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()

    assert "Sign in" in html
    assert "登录" not in html


def test_every_customer_error_message_reads_in_chinese() -> None:
    messages = {name: value for name, value in vars(errors).items() if name.isupper()}
    assert messages

    for name, message in messages.items():
        with translation.override("en"):
            english = str(message)
        with translation.override("zh-hans"):
            chinese = str(message)
        assert chinese != english, name
        assert CJK.search(chinese), f"{name}: {chinese!r}"
