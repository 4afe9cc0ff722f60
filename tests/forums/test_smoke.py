import pytest

from forums import services

pytestmark = pytest.mark.django_db


def test_pages_render(client, forum, ask, learner, other, staff_member, course):
    thread = ask(body="Here is code:\n\n```python\nimport numpy as np\nx = np.dot(w.T, X) + b\n```\n\nand $\\sigma(z)$")
    reply = services.reply_create(author=other, thread=thread, body="Check your learning rate @nobody")
    services.comment_create(author=learner, reply=reply, body="Thanks!")
    client.force_login(learner)
    for url in [
        "/forums/",
        f"/forums/{course.slug}/",
        f"/forums/{course.slug}/?q=cost",
        f"/forums/{course.slug}/?unanswered=1&week=1",
        f"/forums/{course.slug}/ask/",
        f"/forums/{course.slug}/similar/?title=cost+goes+up",
        thread.get_absolute_url(),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    client.force_login(staff_member)
    for url in [f"/forums/{course.slug}/staff/", f"/forums/{course.slug}/review/", thread.get_absolute_url()]:
        assert client.get(url).status_code == 200, url
