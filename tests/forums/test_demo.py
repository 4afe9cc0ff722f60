"""The demo pack's forum threads load, look alive, and loading them again changes nothing."""

import pytest
from django.core.management import call_command

from forums.models import Post, Thread

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def demo_courses(db):
    from courses.packs import load_pack, pack_apply
    from tests.conftest import DEMO_PACK

    pack_apply(pack=load_pack(DEMO_PACK))


def test_demo_threads_load_once_with_answers_code_and_math(demo_courses, capsys):
    call_command("seed_demo_forums")
    threads = Thread.objects.count()
    posts = Post.objects.count()
    assert threads >= 8
    assert Thread.objects.filter(accepted_post__isnull=False).exists()
    assert Thread.objects.filter(has_endorsed=True).exists()
    assert Thread.objects.filter(first_response_at__isnull=True, kind="question").exists()  # one still waiting
    assert Thread.objects.filter(is_anonymous=True).exists()
    assert Post.objects.filter(body_html__contains='<div class="highlight">').exists()
    assert Post.objects.filter(body_html__contains="<math").exists()
    assert Thread.objects.values("forum").distinct().count() == 5  # every course has some
    call_command("seed_demo_forums")
    assert (Thread.objects.count(), Post.objects.count()) == (threads, posts)
    assert "0 added" in capsys.readouterr().out
