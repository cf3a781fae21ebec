"""The test override: fast hashing, tasks run at once, no login lockout noise."""

from huitou.settings import *  # noqa: F403
from huitou.settings import HUEY

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HUEY = {**HUEY, "immediate": True}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Static files come from the apps' folders (finders); nothing is collected.
WHITENOISE_AUTOREFRESH = True
