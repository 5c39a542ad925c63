import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Everything imported so far lives as long as the process: keep it out of the
# garbage collector's passes, which would otherwise walk Django, pandas and numpy
# now and then in the middle of a request (and, under gunicorn --preload, touch
# pages the workers share).
gc.freeze()
