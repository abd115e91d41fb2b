"""GET /api/schema/: the OpenAPI document, for logged-in users."""


def test_it_serves_the_openapi_schema_to_a_logged_in_user(client, viewer):
    client.force_login(viewer)

    response = client.get("/api/schema/")

    assert response.status_code == 200
    text = response.content.decode()
    assert text.startswith("openapi: 3")
    assert "/api/sessions/{session_id}/start/" in text
    assert "/api/strategies/" in text


def test_it_refuses_anonymous_users(client, db):
    """Every page and endpoint needs a login, the schema too (it maps the whole API). DRF views
    opt out of Django's LoginRequiredMiddleware and drf-spectacular serves with AllowAny unless
    told otherwise."""
    response = client.get("/api/schema/")

    assert response.status_code in (302, 401, 403), response.status_code
    assert b"openapi" not in response.content
    if response.status_code == 302:
        assert response["Location"].startswith("/accounts/login/")
