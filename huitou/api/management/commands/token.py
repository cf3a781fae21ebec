"""``huitou token``: create, list and revoke API bearer tokens.

huitou token create <username> [--name NAME]   prints the new token once
huitou token list <username>
huitou token revoke <hint>                     the hint from ``list``, or the token itself
"""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from huitou.api.selectors import tokens_matching, tokens_of
from huitou.api.services import token_create, token_revoke
from huitou.tenancy.models import User


class Command(BaseCommand):
    help = "Create, list and revoke API bearer tokens. A token acts as its user, with that user's role."

    def add_arguments(self, parser: ArgumentParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="Create a token and print it (shown only once).")
        create.add_argument("username")
        create.add_argument("--name", default="", help="What the token is for, e.g. the mini-program.")
        listing = actions.add_parser("list", help="List a user's tokens.")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="Revoke a token by the hint `list` shows.")
        revoke.add_argument("hint", help="The hint from `huitou token list`, or the whole token.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "create":
            self.create_token(_staff(options["username"]), options["name"])
        elif action == "list":
            self.list_tokens(_staff(options["username"]))
        else:
            self.revoke_token(options["hint"])

    def create_token(self, user: User, name: str) -> None:
        if not user.is_active or user.organization_id is None:
            raise CommandError(f"{user.username} is not an active staff member of an organization.")
        token, raw = token_create(user=user, name=name)
        self.stdout.write(raw)
        self.stderr.write(
            f"Token {token.hint}… for {user.username} ({user.get_role_display()}). "
            "Store it now: it is not shown again. Send it as `Authorization: Bearer <token>`."
        )

    def list_tokens(self, user: User) -> None:
        tokens = list(tokens_of(user=user))
        if not tokens:
            self.stdout.write(f"{user.username} has no tokens.")
        for token in tokens:
            state = f"revoked {_when(token.revoked_at)}" if token.revoked_at else "active"
            used = _when(token.last_used_at) if token.last_used_at else "never"
            self.stdout.write(
                f"{token.hint}…  {state:<24} created {_when(token.created_at)}  last used {used}  {token.name}".rstrip()
            )

    def revoke_token(self, hint: str) -> None:
        hint = hint.strip().rstrip("…")
        tokens = list(tokens_matching(ref=hint))
        if not tokens:
            raise CommandError(f"No active token matches {hint!r}.")
        if len(tokens) > 1:
            raise CommandError(f"{len(tokens)} active tokens match {hint!r}; give the whole token instead.")
        token_revoke(token=tokens[0])
        self.stdout.write(f"Revoked {tokens[0].hint}… of {tokens[0].user.username}.")


def _staff(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No staff member with the username {username!r}.")
    return user


def _when(moment: Any) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
