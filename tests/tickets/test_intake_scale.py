"""Scaled out: two web processes and two Celery workers on one PostgreSQL, one Redis.

The same installation as production's docker compose, sized to run in seconds:
300 mails posted concurrently to both web processes (200 questions, then 100
replies to them), taken by both workers at once. Every mail is stored once, the
threads' and tickets' numbers run from 1 without a gap, every thread counts its
messages right, and no worker meets a deadlock. bench_scale runs it with 10,000.
"""

import tempfile
from pathlib import Path

import pytest

from tests.cluster import check, cluster, mail
from tests.conftest import redis_url, require_postgres
from tests.processes import production_env, shared_database_url

QUESTIONS = 200
REPLIES = 100


@pytest.mark.django_db(transaction=True)
def test_two_web_processes_and_two_workers_store_every_mail_once(inbox):
    require_postgres()
    data = Path(tempfile.mkdtemp(prefix="tisket-scale-"))
    database_url = shared_database_url()
    env = production_env(data, database_url) | {
        "CELERY_BROKER_URL": redis_url().rsplit("/", 1)[0] + "/14",
        "HOME": str(data),
    }
    questions = [mail(n, inbox.address) for n in range(QUESTIONS)]
    replies = [
        mail(QUESTIONS + n, inbox.address, reply_to=n * QUESTIONS // REPLIES)
        for n in range(REPLIES)
    ]
    with cluster(env, database_url) as running:
        assert running.post_all(questions, inbox.address) == [200] * QUESTIONS
        running.drain(timeout=120)
        assert running.post_all(replies, inbox.address) == [200] * REPLIES
        running.drain(timeout=120)
        output = running.output()
    result = check(database_url, [f"scale-{n}@client.test" for n in range(QUESTIONS + REPLIES)])
    assert result["statuses"] == {"accepted": QUESTIONS + REPLIES}, output[-3000:]
    assert result["missing"] == []
    assert result["doubled"] == []
    assert result["gaps"] == {}
    assert result["threads_miscounted"] == 0
    assert "deadlock" not in output.lower(), output[-3000:]
    assert "Traceback" not in output, output[-3000:]
