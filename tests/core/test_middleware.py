"""The console's error boundary: an ApplicationError raised in a view becomes a page with its status."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.urls("tests.core.urls")
@pytest.mark.django_db
def test_an_application_error_in_a_view_is_a_page_with_its_status_and_message(client: Client) -> None:
    response = client.get("/refuse/")

    assert response.status_code == 409
    assert "core/error.html" in [t.name for t in response.templates]
    html = response.content.decode()
    # the message is shown as text, never as markup
    assert "the output folder /data/out is taken &lt;b&gt;already&lt;/b&gt;" in html
    assert 'data-error-code="conflict"' in html


@pytest.mark.urls("tests.core.urls")
@pytest.mark.django_db
def test_the_error_page_speaks_chinese(client: Client) -> None:
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})

    response = client.get("/refuse/")

    assert response.status_code == 409
    assert "请求未能完成" in response.content.decode()
