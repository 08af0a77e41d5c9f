from training import parity_fixture


def test_parity_fixture_is_what_the_code_produces():
    assert parity_fixture.compare() == []
    size = sum(p.stat().st_size for p in parity_fixture.FIXTURE.iterdir())
    assert size < 1_000_000
