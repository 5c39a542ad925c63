import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import reverse

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Django imports the URLconf, and with it every view and what they use (numpy,
# rapidfuzz, openpyxl), at the first request: under gunicorn --preload, once in
# each worker, each keeping its own copy (30 MB). The first reverse() does it here
# instead, before the fork, and builds the URL names' lookup table with it.
reverse("login")

# Everything imported so far lives as long as the process: keep it out of the
# garbage collector's passes, which would otherwise walk Django, numpy and
# rapidfuzz now and then in the middle of a request (and, under gunicorn
# --preload, touch pages the workers share).
gc.freeze()
