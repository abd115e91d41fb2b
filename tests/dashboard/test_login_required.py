"""Every dashboard page and partial needs login; anonymous users go to /accounts/login/."""

import pytest

PAGES = [
    "/",
    "/scrapers/",
    "/history/",
    "/sessions/new/",
]
SESSION_PAGES = ["", "row/", "live/", "trades/", "logs/", "edit/"]
POSTS = ["start/", "stop/", "delete/", "clone/"]


@pytest.mark.parametrize("url", PAGES)
def test_it_sends_anonymous_users_to_the_login_page(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={url}"


@pytest.mark.parametrize("suffix", SESSION_PAGES)
def test_it_hides_session_pages_and_partials_from_anonymous_users(client, new_session, suffix):
    session = new_session()

    response = client.get(f"/sessions/{session.pk}/{suffix}", HTTP_HX_REQUEST="true")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("suffix", POSTS)
def test_it_refuses_actions_of_anonymous_users(client, new_session, suffix):
    session = new_session()

    response = client.post(f"/sessions/{session.pk}/{suffix}")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    session.refresh_from_db()
    assert session.status == "created"


def test_the_login_page_is_styled_and_has_a_form(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Log in" in html
    assert "dashboard.css" in html
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html


def test_logging_in_leads_to_the_running_tab(client, dash_operator):
    response = client.post(
        "/accounts/login/", {"username": "oscar-operator", "password": "pw-for-tests-1"}, follow=True
    )

    assert response.redirect_chain == [("/", 302)]
    assert response.status_code == 200
    html = response.content.decode()
    assert "RUNNING SESSIONS (0)" in html
    assert "oscar-operator" in html
    assert "Log out" in html


def test_a_wrong_password_stays_on_the_login_page(client, dash_operator):
    response = client.post("/accounts/login/", {"username": "oscar-operator", "password": "nope"})

    assert response.status_code == 200
    assert "didn't match" in response.content.decode()
    assert client.get("/").status_code == 302
