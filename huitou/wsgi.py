"""The WSGI application: ``huitou serve`` (waitress) and gunicorn load this module.

Everything a request may need is loaded here, once: the URLconf and with it every view and the
modules they import. Then the objects alive at that moment are frozen out of Python's cyclic
garbage collector (``gc.freeze``): they live as long as the process, and without the freeze every
full collection walked them all again, a pause of 150-200 ms every few requests of a page that
builds a few thousand rows (the staff ranking of a chain). Under gunicorn's ``--preload`` the
frozen objects also stay shared between the workers' pages of memory.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huitou.settings")
application = get_wsgi_application()

get_resolver().url_patterns  # noqa: B018 - imports every view now, not on the first request
gc.collect()
gc.freeze()
