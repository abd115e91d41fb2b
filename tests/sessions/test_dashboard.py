"""The login page and the dashboard behind it."""


def test_the_login_page_answers(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Log in" in html
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html


def test_the_dashboard_sends_anonymous_users_to_log_in(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_logging_in_leads_to_the_dashboard(client, viewer):
    response = client.post(
        "/accounts/login/", {"username": "victor", "password": "pw-for-tests-1", "next": "/"}
    )

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_wrong_password_stays_on_the_login_page(client, viewer):
    response = client.post("/accounts/login/", {"username": "victor", "password": "nope"})

    assert response.status_code == 200
    assert "didn't match" in response.content.decode()
    assert client.get("/").status_code == 302
