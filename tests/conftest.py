import pytest
from pagekit import SECRET_VARS


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: builds real environments (pre-commit); deselect with -m 'not slow'")


# Hypothesis profiles (tests/test_properties.py): "ci" when CI=true (derandomized, so a CI run is
# reproducible), "dev" otherwise (a bit smaller, random). Neither has a deadline: a page's check
# time varies on a shared machine.
import os as _os

from hypothesis import HealthCheck as _HealthCheck
from hypothesis import settings as _hypothesis_settings

_hypothesis_settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[_HealthCheck.too_slow, _HealthCheck.data_too_large],
)
_hypothesis_settings.register_profile(
    "dev", max_examples=40, deadline=None,
    suppress_health_check=[_HealthCheck.too_slow, _HealthCheck.data_too_large],
)
_hypothesis_settings.load_profile("ci" if _os.environ.get("CI", "").lower() == "true" else "dev")




@pytest.fixture
def env(monkeypatch, tmp_path, request):
    """The requesting module's SECRET as OO_JWT_SECRET (role variables removed); cwd = a fresh folder."""
    for var in SECRET_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OO_JWT_SECRET", request.module.SECRET)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def run(capsys, request):
    """Run ``oo-jwt`` in process: (exit code, stdout, stderr). An argparse exit is its exit code; a
    traceback, or the requesting module's SECRET in any output, fails the test."""
    from mkdocs_oo_jwt.cli import main

    secret = request.module.SECRET

    def _run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            rc = main(list(argv))
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        assert secret not in out and secret not in err, "the secret was printed"
        return rc, out, err

    return _run
