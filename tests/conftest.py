def pytest_configure(config):
    config.addinivalue_line("markers", "slow: builds real environments (pre-commit); deselect with -m 'not slow'")
