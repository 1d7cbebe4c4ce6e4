"""What every rule sees of one page: samples, their flows and pairs, settings and secrets."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..attribution import NONE, Attribution
from ..catalog import RULES
from ..flows import Flow, FlowRegistry
from ..model import Finding, Fix, Severity, Span
from ..page import Page
from ..samples import Example, Extraction, Fault, Token
from ..settings import Secret, Settings


@dataclass
class PageCheck:
    page: Page
    extraction: Extraction
    flows: FlowRegistry
    settings: Settings
    secrets: dict[str, Secret]
    version: tuple[int, ...]
    pairs: dict[int, Example | None] = field(default_factory=dict)  # id(token) -> the example it signs
    attributions: dict[int, Attribution] = field(default_factory=dict)  # id(example or token) -> its flow
    unsigned_roles: set[str] = field(default_factory=set)  # roles whose signatures went unchecked
    time_dependent: bool = False  # a token has exp or nbf: the findings change with the clock

    def attribution(self, sample: Example | Token | Fault) -> Attribution:
        return self.attributions.get(id(sample), NONE)

    def flow_of(self, sample: Example | Token | Fault) -> Flow | None:
        return self.attribution(sample).flow

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
