#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from config.private_files import files_private

    files_private()  # first: the database, the secret key and the logs are created 0600
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
