import pytest
from django.db import transaction

from tests.conftest import in_parallel, require_postgres
from tests.factories import OrganizationFactory
from tisket.services import sequence_next


def test_sequences_count_per_organization_and_name(db):
    acme, globex = OrganizationFactory(), OrganizationFactory()
    with transaction.atomic():
        assert [sequence_next(organization_id=acme.pk, name="thread") for _ in range(3)] == [
            1,
            2,
            3,
        ]
        assert sequence_next(organization_id=acme.pk, name="ticket") == 1
        assert sequence_next(organization_id=globex.pk, name="thread") == 1


def test_a_rolled_back_number_is_given_again(db):
    org = OrganizationFactory()
    with transaction.atomic():
        assert sequence_next(organization_id=org.pk, name="thread") == 1

    def numbered_insert_that_fails() -> None:
        with transaction.atomic():
            assert sequence_next(organization_id=org.pk, name="thread") == 2
            raise RuntimeError("the insert failed")

    with pytest.raises(RuntimeError):
        numbered_insert_that_fails()
    with transaction.atomic():
        assert sequence_next(organization_id=org.pk, name="thread") == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_callers_get_distinct_consecutive_numbers():
    require_postgres()
    org = OrganizationFactory()

    def take(_: int) -> int:
        with transaction.atomic():
            return sequence_next(organization_id=org.pk, name="thread")

    numbers = in_parallel(take, range(100))
    assert sorted(numbers) == list(range(1, 101))


def test_several_numbers_are_taken_at_once(db):
    org = OrganizationFactory()
    with transaction.atomic():
        assert sequence_next(organization_id=org.pk, name="thread", count=3) == 3
        assert sequence_next(organization_id=org.pk, name="thread", count=2) == 5
        assert sequence_next(organization_id=org.pk, name="thread") == 6
