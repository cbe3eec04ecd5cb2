"""``catalog refresh`` exit codes: a provider whose refresh failed (its snapshot kept) is a
warning, exit 0, unless --strict; a refresh that failed for every provider asked is an error."""

from __future__ import annotations

import pytest

from skyplan.cli import main


@pytest.fixture(scope="module")
def moto_url():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def run(capsys, *args):
    try:
        main(list(args))
        code = 0
    except SystemExit as e:
        code = e.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def aws_at(moto_url, monkeypatch, cache_dir):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)  # boto3 sends EC2 and pricing calls there
    return moto_url


@pytest.mark.slow
def test_one_provider_kept_its_snapshot_is_a_warning_exit_0(capsys, aws_at):
    # gcp has no region called eu-west-1: its refresh fails and keeps the snapshot; aws succeeds
    code, out, err = run(capsys, "catalog", "refresh", "--provider", "aws", "--provider", "gcp",
                         "--region", "eu-west-1")
    assert code == 0, err
    assert "aws: refreshed" in out
    assert "Warning: gcp:" in err and "keeping the built-in snapshot" in err
    assert not any(line.startswith("Error") for line in err.splitlines())


@pytest.mark.slow
def test_strict_makes_a_kept_snapshot_an_error(capsys, aws_at):
    code, out, err = run(capsys, "catalog", "refresh", "--provider", "aws", "--provider", "gcp",
                         "--region", "eu-west-1", "--strict")
    assert code == 1
    assert "aws: refreshed" in out
    assert "Error: gcp:" in err


def test_every_provider_failed_is_an_error(capsys, cache_dir):
    code, out, err = run(capsys, "catalog", "refresh", "--provider", "gcp", "--region", "eu-west-1")
    assert code == 1
    assert "Error: gcp:" in err and not any(line.startswith("Warning") for line in err.splitlines())
    assert "no provider was refreshed" in err


def test_every_provider_failed_json_exit_1(capsys, cache_dir):
    import json

    code, out, _ = run(capsys, "catalog", "refresh", "--provider", "gcp", "--region", "eu-west-1", "--json")
    assert code == 1
    assert json.loads(out)["providers"][0]["ok"] is False


@pytest.mark.slow
def test_prices_kept_from_the_snapshot_within_a_refresh_warn(capsys, aws_at):
    # moto serves EC2 but has no Price List API: the refresh succeeds with snapshot on-demand prices
    code, out, err = run(capsys, "catalog", "refresh", "--provider", "aws", "--region", "eu-west-1")
    assert code == 0, err
    assert "aws: refreshed" in out
    assert "Warning: aws: the Price List API was unreachable" in err
    code, out, err = run(capsys, "catalog", "refresh", "--provider", "aws", "--region", "eu-west-1", "--strict")
    assert code == 1 and "Error: aws: the Price List API was unreachable" in err
