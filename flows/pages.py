"""Guide pages, company pages and the index page, in HTML.

A guide page shows the current ranges per region, every version, the latest
quarter-over-quarter table, and its chart (``flows/charts.py``).
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from db.schema import Guide, QoqChange, Version
from db.store import Company, Listed
from flows.snapshot import title_of
from flows.views import amount, number, span

# The pages' templates, and the charts'.
TEMPLATES = Environment(
    loader=PackageLoader("flows", "templates"),
    autoescape=select_autoescape(["html", "svg"]),
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    # Templates ship with the code: no need to look at their files for every page.
    auto_reload=False,
)
TEMPLATES.filters["amount"] = amount
TEMPLATES.globals["span"] = span


def render_guide_page(
    guide: Guide,
    versions: list[Version],
    changes: list[QoqChange],
    live: bool,
    chart: bool,
    base_url: str,
) -> str:
    latest = versions[-1]
    data = latest.snapshot.frontmatter
    rows = [
        {
            "number": v.number,
            "kind": v.kind,
            "quarter": v.snapshot.salary_data_quarter,
            "last_updated": v.snapshot.last_updated.isoformat(),
            "stored": v.ingested_at.date().isoformat(),
            "changed": ", ".join(v.changed_fields),
        }
        for v in reversed(versions)
    ]
    comparison = [
        {
            "region": c.region,
            "field": c.field,
            "old": number(c.old),
            "new": number(c.new),
            "delta": number(c.delta),
            "pct": "" if c.pct is None else f"{c.pct:+.2f}%",
            "flag": c.flag or "",
        }
        for c in changes
    ]
    return TEMPLATES.get_template("guide.html").render(
        guide=guide,
        title=title_of(data),
        data=data,
        regions=data["compensation"],
        versions=rows,
        comparison=comparison,
        compared=(changes[0].from_quarter, changes[0].to_quarter) if changes else None,
        live=live,
        chart=chart,
        base_url=base_url,
    )


def render_index(companies: list[Company], roles: list[str], base_url: str) -> str:
    """The top page: every company, with its guides' page and its feeds."""
    return TEMPLATES.get_template("index.html").render(
        companies=companies, roles=roles, base_url=base_url
    )


def render_company(company: str, entries: list[Listed], base_url: str) -> str:
    """A company's page: its guides, each with its quarter and latest change."""
    guides = [
        {
            "key": f"{listed.company}/{listed.role}",
            "title": title_of(listed._asdict()),
            "quarter": listed.quarter,
            "kind": listed.kind,
            "live": listed.live,
            "href": f"{listed.role}/",
        }
        for listed in entries
    ]
    return TEMPLATES.get_template("company.html").render(
        company=company, guides=guides, base_url=base_url
    )
