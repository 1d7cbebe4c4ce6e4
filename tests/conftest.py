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

