import pytest

from baton.definition.durations import DurationFormatError, format_duration, parse_duration_ms


@pytest.mark.parametrize(
    ("text", "ms"),
    [
        (300000, 300000),
        ("500ms", 500),
        ("30s", 30000),
        ("5m", 300000),
        ("1h", 3600000),
        ("1d", 86400000),
        ("1m30s", 90000),
        ("1.5s", 1500),
        ("250", 250),
    ],
)
def test_parses_numbers_as_ms_and_units(text, ms):
    assert parse_duration_ms(text) == ms


@pytest.mark.parametrize("text", ["5x", "m5", "", "5 minutes", "1m 30", True, None, [1]])
def test_rejects_malformed_durations(text):
    with pytest.raises(DurationFormatError):
        parse_duration_ms(text)


@pytest.mark.parametrize(
    ("ms", "text"), [(300000, "5m"), (1500, "1.5s"), (3600000, "1h"), (250, "250ms")]
)
def test_formats_shortest(ms, text):
    assert format_duration(ms) == text
