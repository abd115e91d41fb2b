"""Django's four password validators: length 12, common, similar to the user, all digits. What
sets passwords still works with them: the password-change page, and `ensure_admin`'s generated
password (the first admin of `make run`)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client, RequestFactory

# Each one passed the single rule there was before (8 characters or more).
WEAK = {
    "too short": ("Tr0ub4dor&3", "at least 12 characters"),
    "common": ("password1234", "too common"),
    "numeric": ("839201746153", "entirely numeric"),
    "like the user": ("olga@example", "too similar"),
}


@pytest.mark.parametrize("password,message", WEAK.values(), ids=WEAK.keys())
def test_a_weak_password_is_refused(operator, password, message):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user=operator)

    assert message in " ".join(refused.value.messages)


def test_a_good_password_passes(operator):
    validate_password("violet-harbour-27-kites", user=operator)


def test_the_password_change_page_refuses_a_weak_one(operator):
    client = Client()
    client.force_login(operator)

    response = client.post(
        "/accounts/password_change/",
        {"old_password": "pw-for-tests-1", "new_password1": "password1234", "new_password2": "password1234"},
    )

    assert response.status_code == 200
    assert "too common" in response.content.decode()
    operator.refresh_from_db()
    assert operator.check_password("pw-for-tests-1")


def test_the_first_admin_gets_a_password_that_passes_the_rules(db, fast_passwords):
    out = StringIO()

    call_command("ensure_admin", stdout=out)

    password = re.search(r"with password: (\S+)", out.getvalue()).group(1)
    admin = User.objects.get(username="admin", is_superuser=True)
    validate_password(password, user=admin)
    login = RequestFactory().post("/accounts/login/")
    assert authenticate(login, username="admin", password=password) == admin
