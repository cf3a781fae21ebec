"""The store manager's care rules: each kind on or off, days ahead, who does it, the suggested script, and
whom it reaches (grades and tags)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from huitou.care import selectors
from huitou.care.forms_work import CareRuleForm
from huitou.care.models import CareKind
from huitou.care.services.rule_settings import (
    WITHOUT_AUDIENCE,
    WITHOUT_LEAD_DAYS,
    care_rule_save,
    placeholders_for,
)
from huitou.care.services.rules import DEFAULTS, RuleSettings
from huitou.customers.selectors import tags_for
from huitou.tenancy.decorators import staff_required
from huitou.tenancy.http import StaffRequest
from huitou.tenancy.roles import Perm
from huitou.tenancy.selectors import staff_for_org
from huitou.web.forms import apply_errors


def _initial(rule: RuleSettings) -> dict[str, object]:
    # A script equal to the starter one shows empty: the default stays the default (and follows the language).
    starter = str(DEFAULTS[rule.kind][3])
    return {
        "is_active": rule.is_active,
        "lead_days": rule.lead_days,
        "owner_mode": rule.owner_mode,
        "owner": rule.owner_id,
        "script": "" if rule.script == starter else rule.script,
        "grades": list(rule.grades),
        "tags": list(rule.tag_ids),
    }


def audience_words(rule: RuleSettings, tag_names: dict[int, str]) -> str:
    """Whom the rule reaches, in words: "所有客户", "A、B 级 · 标签：老客户"."""
    if rule.kind in WITHOUT_AUDIENCE or rule.for_everyone:
        return _("Every customer")
    parts = []
    if rule.grades:
        parts.append(_("Grade %(grades)s") % {"grades": "、".join(rule.grades)})
    if rule.tag_ids:
        names = "、".join(tag_names.get(t, "?") for t in rule.tag_ids)
        parts.append(_("Tagged %(tags)s") % {"tags": names})
    return " · ".join(parts)


@staff_required(Perm.MANAGE_SETTINGS)
def care_rules(request: StaffRequest) -> HttpResponse:
    """One card per kind of care; each saves on its own.

    Queries: session, user (+organization), the staff, the tags, the rules (with their tags), the user's
    shops (switcher).
    """
    org = request.organization
    staff = [u for u in staff_for_org(org) if u.has_role_perm(Perm.FOLLOW_UP)]
    tags = list(tags_for(org))
    tag_names = {t.pk: t.name for t in tags}
    posted = request.POST.get("kind", "") if request.method == "POST" else ""
    cards = []
    for rule in selectors.rule_settings(organization=org):
        bound = rule.kind == posted
        form = CareRuleForm(
            request.POST if bound else None, kind=rule.kind, staff=staff, tags=tags, initial=_initial(rule)
        )
        if bound and form.is_valid():
            try:
                care_rule_save(organization=org, kind=rule.kind, data=form.service_data(), by=request.user)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, _("Saved: %(kind)s.") % {"kind": CareKind(rule.kind).label})
                return redirect(f"{request.path}#rule-{rule.kind}")
        cards.append(
            {
                "kind": rule.kind,
                "label": CareKind(rule.kind).label,
                "form": form,
                "starter": str(DEFAULTS[rule.kind][3]),
                "placeholders": [f"{{{p}}}" for p in placeholders_for(rule.kind)],
                "has_lead_days": rule.kind not in WITHOUT_LEAD_DAYS,
                "has_audience": rule.kind not in WITHOUT_AUDIENCE,
                "audience": audience_words(rule, tag_names),
            }
        )
    return render(request, "care/rules.html", {"cards": cards})
