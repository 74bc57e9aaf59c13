"""``@cf.workflow(schedule=…)`` → the discovery definition's ``schedule`` (ours, issue 11), and
the mistakes that fail at decoration time rather than on the server."""

from __future__ import annotations

import pytest

import coflux as cf
from coflux.target import Target


def report(region: str, full: bool = False, limit: int = 10):
    pass


def test_a_cron_string_takes_the_defaults():
    d = cf.workflow(schedule="0 6 * * 1-5")(lambda: None).definition("app")
    assert d["schedule"] == {"cron": "0 6 * * 1-5"}
    assert cf.workflow(schedule="  @daily ")(lambda: None).definition("app")["schedule"] == {"cron": "@daily"}


def test_a_schedule_with_every_option():
    schedule = cf.Schedule(
        "*/15 9-17 * * mon-fri",
        timezone="Europe/Paris",
        arguments={"region": "eu", "limit": 3},
        catch_up="skip",
        overlap="cancel",
    )
    d = cf.workflow(schedule=schedule)(report).definition("app")
    # by name, bound to positions; `full` between them takes its default
    assert d["schedule"] == {
        "cron": "*/15 9-17 * * mon-fri",
        "timezone": "Europe/Paris",
        "arguments": ['"eu"', "false", "3"],
        "catch_up": "skip",
        "overlap": "cancel",
    }


def test_arguments_by_position_as_json_texts():
    d = cf.workflow(schedule=cf.Schedule("@hourly", arguments=["us", True]))(report).definition("app")
    assert d["schedule"]["arguments"] == ['"us"', "true"]
    nested = cf.workflow(schedule=cf.Schedule("@hourly", arguments=[{"a": [1, 2.5]}]))(report).definition("app")
    assert nested["schedule"]["arguments"] == ['{"a":[1,2.5]}']


def test_no_schedule_no_field():
    assert "schedule" not in cf.workflow(report).definition("app")


@pytest.mark.parametrize(
    "make, error",
    [
        (lambda: cf.Schedule("0 6 * *"), "five fields or a macro"),
        (lambda: cf.Schedule("@"), "five fields or a macro"),
        (lambda: cf.Schedule("@daily", catch_up="always"), "catch_up must be one of once, skip"),
        (lambda: cf.Schedule("@daily", overlap="queue"), "overlap must be one of allow, skip, cancel"),
        (lambda: cf.Schedule("@daily", timezone=""), "IANA name"),
        # a required parameter without an argument: the server could never start the run
        (lambda: cf.workflow(schedule="@daily")(report), "missing argument"),
        (lambda: cf.workflow(schedule=cf.Schedule("@daily", arguments={"nope": 1}))(report), "unexpected keyword argument 'nope'"),
        (lambda: cf.workflow(schedule=cf.Schedule("@daily", arguments=[object()]))(report), "not JSON-serialisable"),
        (lambda: cf.workflow(schedule=42)(report), "cron string or a cf.Schedule"),
        (lambda: Target(report, "task", schedule="@daily"), "workflows only"),
    ],
)
def test_mistakes_fail_at_decoration(make, error):
    with pytest.raises((ValueError, TypeError), match=error):
        make()


def test_tasks_take_no_schedule():
    with pytest.raises(TypeError):
        cf.task(schedule="@daily")(report)  # type: ignore[call-arg]
