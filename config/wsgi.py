import os

from django.core.wsgi import get_wsgi_application

from config.serving import freeze_loaded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# What the process loaded (Django, the apps, the views, numpy, numba's compiled code) lives as
# long as it does: out of the collector's reach (config/serving.py).
freeze_loaded()
