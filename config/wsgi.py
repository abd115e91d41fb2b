import os

from django.core.wsgi import get_wsgi_application

from config.private_files import files_private
from config.serving import freeze_loaded

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
files_private()  # before the app: what the web process writes is 0600 (config/private_files.py)
application = get_wsgi_application()

# What the process loaded (Django, the apps, the views, numpy, numba's compiled code) lives as
# long as it does: out of the collector's reach (config/serving.py).
freeze_loaded()
