"""What every rule sees of one page: samples, their flows and pairs, settings and secrets."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..catalog import RULES
from ..flows import Flow, FlowRegistry
from ..model import Finding, Fix, Severity, Span
from ..page import Page
from ..samples import Example, Extraction, Token
from ..settings import Secret, Settings


@dataclass
class PageCheck:
    page: Page
    extraction: Extraction
    flows: FlowRegistry
    settings: Settings
    secrets: dict[str, Secret]
    version: tuple[int, ...]
    example_flow: dict[int, Flow | None] = field(default_factory=dict)
    token_flow: dict[int, Flow | None] = field(default_factory=dict)
    pairs: dict[int, Example | None] = field(default_factory=dict)
    unsigned_roles: set[str] = field(default_factory=set)  # roles whose signatures went unchecked
    time_dependent: bool = False  # a token has exp or nbf: the findings change with the clock

    def flow_of(self, sample: Example | Token) -> Flow | None:
        table = self.example_flow if isinstance(sample, Example) else self.token_flow
        return table.get(id(sample))

    def finding(
        self,
        rule: str,
        span: Span,
        message: str,
        flow: Flow | None = None,
        pointer: str | None = None,
        severity: Severity | None = None,
        fix: Fix | None = None,
    ) -> Finding:
        return Finding(
            rule=rule,
            severity=severity or RULES[rule].severity,
            path=self.page.path,
            location=self.page.location(span),
            message=message,
            flow=flow.id if flow else None,
            pointer=pointer,
            span=span,
            fix=fix,
        )
