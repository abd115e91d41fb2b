import os

from django.core.asgi import get_asgi_application

from config.private_files import files_private

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
files_private()  # before the app: what the web process writes is 0600 (config/private_files.py)
application = get_asgi_application()
