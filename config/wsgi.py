import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What the process loaded (Django, the apps, numpy) lives as long as it does: out of the
# collector's reach, a full collection no longer walks it. Requests that make many objects
# (a chart's thousands of candles and markers) then pay no 100 ms pause every few calls.
gc.freeze()
