"""mkdocs-oo-jwt: lint the JSON examples and sample JWTs of API documentation."""

__version__ = "0.1.0"
