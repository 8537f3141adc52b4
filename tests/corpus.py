"""Writes a synthetic corpus of guides shaped like the real ones, for the benchmark.

Every guide is a function of the seed, its index and the quarter step alone, so the
same arguments always give the same bytes. Shapes follow the real guides: 1 to 7
regions (mostly 3), eleven currencies, null figures, ``bonus_pct`` or
``bonus_low``/``bonus_high``, an optional signing bonus, long ``data_sources``
entries, and a body of about 5 KB of prose with the markdown pay table.

Quarter steps: step 0 is 2025-Q4 as the real guides have it. Each later step is the
next quarter, in which most guides move their figures, some are only reviewed (their
dates move), some gain or lose a region and a few files are removed. ``edit`` applies
a same-quarter correction to a fraction of the files.

Run as a script to write a folder: ``python -m tests.corpus OUT [--guides N]``.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path

QUARTERS = ("2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2027-Q1")
FIRST_UPDATED = date(2026, 2, 23)

# Currency, how the body table spells an amount, how many units per US dollar, and
# the regions that pay in it (free text, as researchers write region names).
CURRENCIES: dict[str, tuple[str, float, tuple[str, ...]]] = {
    "USD": (
        "$",
        1.0,
        (
            "San Francisco",
            "San Francisco, CA (HQ)",
            "San Francisco (USD)",
            "New York",
            "New York City (HQ)",
            "NYC",
            "Seattle / Kirkland",
            "Remote US",
            "Bay Area (HQ)",
            "Austin",
            "Denver, CO",
            "Chicago (HQ)",
            "Arlington VA",
            ":us: New York (USD)",
            "San Mateo / San Diego (US)",
        ),
    ),
    "GBP": (
        "£",
        0.79,
        ("London", "London, UK", ":gb: London (GBP)", "Abingdon UK", "Edinburgh"),
    ),
    "EUR": ("€", 0.92, ("Berlin", "Dublin", "Amsterdam", "Paris (EU HQ)", "München")),
    "INR": ("₹", 83.0, ("Bangalore", "Hyderabad", "Pune (R&D)")),
    "SGD": ("S$", 1.34, ("Singapore (HQ)", ":singapore: Singapore (SGD)")),
    "CAD": ("C$", 1.36, ("Toronto", "Vancouver", "Montréal")),
    "CNY": ("¥", 7.2, ("Shenzhen (R&D)", "Shanghai", "Beijing")),
    "AUD": ("A$", 1.52, ("Sydney", "Melbourne")),
    "HKD": ("HK$", 7.8, ("Hong Kong",)),
    "JPY": ("¥", 150.0, ("Tokyo (HQ)", "Tokyo")),
    "CHF": ("CHF ", 0.88, ("Zurich", "Zürich (Google Research)")),
}
# Shares of regions per currency, as in the real guides.
CURRENCY_WEIGHTS = {
    "USD": 9769,
    "GBP": 1940,
    "EUR": 524,
    "INR": 354,
    "SGD": 128,
    "CAD": 126,
    "CNY": 125,
    "AUD": 56,
    "HKD": 56,
    "JPY": 28,
    "CHF": 24,
}
REGION_COUNTS = (1, 2, 3, 4, 5, 6, 7)
REGION_COUNT_WEIGHTS = (8, 20, 45, 15, 7, 3, 2)

ROLES = (
    ("software-engineer", "Software Engineer", 1.0),
    ("senior-software-engineer", "Senior Software Engineer", 1.3),
    ("staff-software-engineer", "Staff Software Engineer", 1.7),
    ("data-engineer", "Data Engineer", 1.05),
    ("data-scientist", "Data Scientist", 1.1),
    ("devops-engineer", "DevOps Engineer", 1.0),
    ("engineering-manager", "Engineering Manager", 1.6),
    ("ml-ai-engineer", "ML/AI Engineer", 1.4),
    ("product-designer", "Product Designer", 0.95),
    ("product-manager", "Product Manager", 1.3),
    ("security-engineer", "Security Engineer", 1.15),
    ("solutions-architect", "Solutions Architect", 1.1),
    ("technical-program-manager", "Technical Program Manager", 1.2),
)
SPECIALTIES = (
    "agentic-commerce-platform-engineer",
    "aws-ai-platform-engineer",
    "quant-researcher",
    "site-reliability-engineer",
    "risk-platform-engineer",
    "identity-verification-engineer",
)

_SYLLABLES = tuple(c + v for c in "bcdfgklmnprstvz" for v in "aeiou")
_SOURCES = (
    "Levels.fyi",
    "Glassdoor",
    "Blind",
    "TeamBlind",
    "H1B",
    "H1B Salary Data",
    "LinkedIn Salary Insights",
)
_LONG_SOURCES = (
    "{company} 10-K Annual Filing — $12B+ Revenue, Operating Margin Expansion and "
    "Stock-Based Compensation Disclosure",
    "{company} Q4 2025 Earnings Call — Headcount Guidance, Equity Refresh Programme "
    "and Engineering Investment Priorities",
    "{company} {role} Compensation Survey — 2026 Benchmark Against Tier-1 Peers "
    "(Google, Meta, Amazon, Microsoft)",
    "{company} vs Peers — {role} Talent War, Retention Grants and Signing Bonuses",
)
_LEVERS = (
    "Competing Offer Leverage",
    "Retention Risk Premium",
    "Architecture Ownership",
    "Mentorship Multiplier",
    "Scarcity of Domain Expertise",
    "Equity Refresh Timing",
    "Signing Bonus Bridge",
    "Relocation Package",
)
_WORDS = (
    "compensation",
    "equity",
    "refresh",
    "grants",
    "negotiation",
    "leverage",
    "candidates",
    "senior",
    "engineers",
    "platform",
    "infrastructure",
    "demand",
    "market",
    "premium",
    "offers",
    "competing",
    "quarter",
    "revenue",
    "growth",
    "retention",
    "talent",
    "hiring",
    "budget",
    "bands",
    "levels",
    "calibration",
    "distributed",
    "systems",
    "reliability",
    "scale",
    "customers",
    "pipelines",
    "analytics",
    "product",
    "roadmap",
    "investment",
    "strategy",
    "recruiters",
    "managers",
    "interview",
    "loop",
    "packages",
    "vesting",
    "schedule",
    "cliff",
    "performance",
    "bonus",
    "targets",
    "headcount",
    "organisation",
    "teams",
    "remote",
    "hybrid",
    "office",
    "relocation",
    "benefits",
    "allowance",
    "currency",
    "adjustments",
    "regional",
)


@dataclass(frozen=True)
class Region:
    name: str
    currency: str
    base: tuple[int, int] | None
    stock: tuple[int, int] | None
    bonus_pct: int | None  # used when ``bonus`` is None
    bonus: tuple[int, int] | None
    signing: tuple[int, int] | None
    total: tuple[int, int] | None


@dataclass(frozen=True)
class Spec:
    """One guide, in the terms the generator varies."""

    company: str
    company_display: str
    role: str
    role_display: str
    role_type: str
    data_quality: str
    quarter: str
    last_updated: date
    next_review_due: date
    regions: tuple[Region, ...]
    level_raw: str
    level_internal: str | None
    data_sources: tuple[str, ...]
    dna: str
    paragraphs: tuple[str, ...] = field(repr=False)
    lever: str = ""


def company_name(number: int) -> tuple[str, str]:
    """A made-up company slug and display name, one per number."""
    parts = []
    value = number
    for _ in range(3):
        value, digit = divmod(value, len(_SYLLABLES))
        parts.append(_SYLLABLES[digit])
    word = "".join(parts) + ("" if value == 0 else str(value))
    return word, word.capitalize()


def guide_identity(index: int) -> tuple[str, str, str, str, str]:
    """Company slug and name, role slug and name, role type of guide ``index``."""
    company, display = company_name(index // (len(ROLES) + 1))
    slot = index % (len(ROLES) + 1)
    if slot < len(ROLES):
        role, role_display, _ = ROLES[slot]
        return company, display, role, role_display, "standard"
    role = SPECIALTIES[(index // (len(ROLES) + 1)) % len(SPECIALTIES)]
    return company, display, role, role.replace("-", " ").title(), "specialty"


def _scale(index: int) -> float:
    slot = index % (len(ROLES) + 1)
    return ROLES[slot][2] if slot < len(ROLES) else 1.5


def _range(rng: random.Random, centre: float, spread: float) -> tuple[int, int]:
    low = centre * (1 - spread * rng.uniform(0.6, 1.0))
    high = centre * (1 + spread * rng.uniform(0.6, 1.0))
    return _round(low), _round(high)


def _round(value: float) -> int:
    step = 1000 if value >= 20000 else 100
    return max(0, round(value / step) * step)


def _region(rng: random.Random, name: str, currency: str, scale: float) -> Region:
    rate = CURRENCIES[currency][1]
    base_usd = rng.uniform(110_000, 200_000) * scale
    # Lower-paid markets pay less in dollars than the rate alone says.
    if currency in ("INR", "CNY"):
        base_usd *= 0.45
    base = _range(rng, base_usd * rate, 0.15)
    stock = _range(rng, base_usd * rate * rng.uniform(0.3, 1.5), 0.35)
    absolute_bonus = rng.random() < 0.19
    bonus_pct = None if absolute_bonus else rng.choice((10, 10, 15, 15, 20, 5))
    if bonus_pct is not None and rng.random() < 0.31:
        bonus_pct = None  # "bonus_pct: null", as in about a third of the real ones
    bonus = _range(rng, base_usd * rate * 0.15, 0.25) if absolute_bonus else None
    signing = _range(rng, base_usd * rate * 0.3, 0.3) if rng.random() < 0.03 else None
    total_centre = base_usd * rate * 1.25 + (stock[0] + stock[1]) / 8
    total = _range(rng, total_centre, 0.2)
    return Region(
        name=name,
        currency=currency,
        base=None if rng.random() < 0.13 else base,
        stock=None if rng.random() < 0.25 else stock,
        bonus_pct=bonus_pct,
        bonus=bonus,
        signing=signing,
        total=None if rng.random() < 0.04 else total,
    )


def _sentence(rng: random.Random, company: str, role: str) -> str:
    words = rng.sample(_WORDS, rng.randint(9, 16))
    if rng.random() < 0.5:
        words.insert(rng.randrange(len(words)), company)
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), role)
    if rng.random() < 0.2:
        amount = rng.randint(120, 450)
        words.insert(rng.randrange(len(words)), f"${amount}K–${amount + 60}K")
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "—really.", "."))


def _paragraph(rng: random.Random, company: str, role: str) -> str:
    return " ".join(_sentence(rng, company, role) for _ in range(rng.randint(3, 5)))


def base_spec(seed: int, index: int) -> Spec:
    """Guide ``index`` as it stands in 2025-Q4."""
    rng = random.Random(f"{seed}:{index}")
    company, display, role, role_display, role_type = guide_identity(index)
    count = rng.choices(REGION_COUNTS, REGION_COUNT_WEIGHTS)[0]
    currencies = rng.choices(
        list(CURRENCY_WEIGHTS), list(CURRENCY_WEIGHTS.values()), k=count
    )
    regions: list[Region] = []
    used: set[str] = set()
    for currency in currencies:
        names = [n for n in CURRENCIES[currency][2] if n not in used]
        if not names:
            continue
        name = rng.choice(names)
        used.add(name)
        regions.append(_region(rng, name, currency, _scale(index)))
    sources = list(rng.sample(_SOURCES, rng.randint(1, 4)))
    if rng.random() < 0.15:
        for template in rng.sample(_LONG_SOURCES, rng.randint(1, 3)):
            sources.append(template.format(company=display, role=role_display))
    level_raw = (
        f"{display} L{rng.randint(3, 7)} ({role_display}) = Google "
        f"L{rng.randint(3, 7)} = Meta E{rng.randint(3, 7)} = "
        f"Datadog IC{rng.randint(2, 5)}"
    )
    dna = " | ".join(rng.sample(_LEVERS, rng.randint(1, 4)))
    if rng.random() < 0.3:
        dna += " | " + _sentence(rng, display, role_display)
    paragraphs = tuple(
        _paragraph(rng, display, role_display) for _ in range(rng.randint(7, 10))
    )
    return Spec(
        company=company,
        company_display=display,
        role=role,
        role_display=role_display,
        role_type=role_type,
        data_quality="high" if rng.random() < 0.83 else "medium",
        quarter=QUARTERS[0],
        last_updated=FIRST_UPDATED,
        next_review_due=FIRST_UPDATED + timedelta(days=89),
        regions=tuple(regions),
        level_raw=level_raw,
        level_internal=(
            None if rng.random() < 0.99 else f"{display} L{rng.randint(3, 7)}"
        ),
        data_sources=tuple(sources),
        dna=dna,
        paragraphs=paragraphs,
        lever=rng.choice(_LEVERS),
    )


# What happens to a guide in a next quarter, with its share of the guides.
GONE, UNTOUCHED, REVIEWED, RESHAPED, DRIFTED = (
    "gone",
    "untouched",
    "reviewed",
    "reshaped",
    "drifted",
)
NEXT_QUARTER_FATES = {
    GONE: 0.005,
    UNTOUCHED: 0.05,
    REVIEWED: 0.20,
    RESHAPED: 0.05,
    DRIFTED: 0.695,
}


def fate(seed: int, index: int, step: int) -> str:
    roll = random.Random(f"{seed}:{index}:fate:{step}").random()
    for name, share in NEXT_QUARTER_FATES.items():
        if roll < share:
            return name
        roll -= share
    return DRIFTED


def spec_at(seed: int, index: int, step: int) -> Spec | None:
    """Guide ``index`` after ``step`` quarters; None once its file is removed."""
    spec = base_spec(seed, index)
    for current in range(1, step + 1):
        what = fate(seed, index, current)
        if what == GONE:
            return None
        rng = random.Random(f"{seed}:{index}:step:{current}")
        if what == UNTOUCHED:
            continue
        updated = spec.last_updated + timedelta(days=rng.randint(80, 100))
        spec = replace(
            spec,
            last_updated=updated,
            next_review_due=updated + timedelta(days=89),
        )
        if what == REVIEWED:
            continue
        regions = [_drift(rng, r) for r in spec.regions]
        if what == RESHAPED:
            if len(regions) > 1 and rng.random() < 0.5:
                regions.pop(rng.randrange(len(regions)))
            else:
                currency = rng.choice(("USD", "GBP", "EUR", "INR", "CAD"))
                names = [n for n in CURRENCIES[currency][2]]
                taken = {r.name for r in regions}
                free = [n for n in names if n not in taken]
                if free:
                    regions.append(
                        _region(rng, rng.choice(free), currency, _scale(index))
                    )
        paragraphs = list(spec.paragraphs)
        paragraphs[rng.randrange(len(paragraphs))] = _paragraph(
            rng, spec.company_display, spec.role_display
        )
        spec = replace(
            spec,
            quarter=QUARTERS[min(current, len(QUARTERS) - 1)],
            regions=tuple(regions),
            paragraphs=tuple(paragraphs),
        )
    return spec


def _drift(rng: random.Random, region: Region) -> Region:
    factor = rng.uniform(0.97, 1.08)

    def move(pair: tuple[int, int] | None) -> tuple[int, int] | None:
        if pair is None:
            return None
        return _round(pair[0] * factor), _round(pair[1] * factor)

    return replace(
        region,
        base=move(region.base),
        stock=move(region.stock),
        bonus=move(region.bonus),
        total=move(region.total),
    )


def corrected(spec: Spec, seed: int, index: int) -> Spec:
    """The same quarter with one region's base range corrected."""
    rng = random.Random(f"{seed}:{index}:correction")
    regions = list(spec.regions)
    position = rng.randrange(len(regions))
    region = regions[position]
    base = region.base or (100_000, 150_000)
    regions[position] = replace(region, base=(base[0] + 1000, base[1] + 2000))
    return replace(spec, regions=tuple(regions))


# Rendering


def _yaml_text(text: str) -> str:
    """A YAML scalar: plain where that is safe, double-quoted otherwise."""
    if (
        text
        and text[0].isalnum()
        and ": " not in text
        and " #" not in text
        and not text.endswith(":")
        and text.lower() not in ("null", "true", "false", "yes", "no", "on", "off")
    ):
        return text
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _number(value: int | None) -> str:
    return "null" if value is None else str(value)


def frontmatter(spec: Spec) -> str:
    lines = [
        "---",
        f"company: {spec.company}",
        f"company_display: {_yaml_text(spec.company_display)}",
        f"role: {spec.role}",
        f"role_display: {_yaml_text(spec.role_display)}",
        f"role_type: {spec.role_type}",
        f"last_updated: {spec.last_updated.isoformat()}",
        f"data_quality: {spec.data_quality}",
        f"salary_data_quarter: {spec.quarter}",
        f"next_review_due: {spec.next_review_due.isoformat()}",
        "compensation:",
    ]
    for region in spec.regions:
        lines.append(f"  - region: {_yaml_text(region.name)}")
        for name, pair in (("base", region.base), ("stock", region.stock)):
            lines.append(f"    {name}_low: {_number(pair[0] if pair else None)}")
            lines.append(f"    {name}_high: {_number(pair[1] if pair else None)}")
        if region.bonus is not None:
            lines.append(f"    bonus_low: {region.bonus[0]}")
            lines.append(f"    bonus_high: {region.bonus[1]}")
        else:
            lines.append(f"    bonus_pct: {_number(region.bonus_pct)}")
        if region.signing is not None:
            lines.append(f"    signing_bonus_low: {region.signing[0]}")
            lines.append(f"    signing_bonus_high: {region.signing[1]}")
        total = region.total
        lines.append(f"    total_comp_low: {_number(total[0] if total else None)}")
        lines.append(f"    total_comp_high: {_number(total[1] if total else None)}")
        lines.append(f"    currency: {region.currency}")
    lines.append("level_mapping:")
    internal = spec.level_internal
    lines.append(f"  internal: {'null' if internal is None else _yaml_text(internal)}")
    lines.append(f"  raw: {_yaml_text(spec.level_raw)}")
    lines.append("data_sources:")
    lines += [f"  - {_yaml_text(source)}" for source in spec.data_sources]
    lines.append(f"negotiation_dna_summary: {_yaml_text(spec.dna)}")
    lines.append("---")
    return "\n".join(lines) + "\n"


def _money(region: Region, pair: tuple[int, int] | None) -> str:
    if pair is None:
        return "—"
    symbol = CURRENCIES[region.currency][0]
    # Rounded as a person writes a table: $14,900 is $15K, not $14K.
    return f"{symbol}{round(pair[0] / 1000)}K–{symbol}{round(pair[1] / 1000)}K"


def body(spec: Spec) -> str:
    title = f"{spec.role_display} | {spec.company_display}"
    lines = [
        f"### {title} Global Negotiation Guide",
        "",
        f"**Negotiation DNA:** {spec.dna}",
        "",
        "| Region | Base Salary | Stock (RSU/4yr) | Bonus | Total Comp |",
        "|--------|-------------|-----------------|-------|------------|",
    ]
    for region in spec.regions:
        if region.bonus is not None:
            bonus = _money(region, region.bonus)
        elif region.bonus_pct is not None:
            bonus = f"{region.bonus_pct}–{region.bonus_pct + 5}%"
        else:
            bonus = "—"
        lines.append(
            f"| {region.name} | {_money(region, region.base)} | "
            f"{_money(region, region.stock)} | {bonus} | "
            f"{_money(region, region.total)} |"
        )
    paragraphs = spec.paragraphs
    lines += ["", "**Negotiation DNA**", *_spaced(paragraphs[:3])]
    lines += ["", f"**Level Mapping:** {spec.level_raw}", ""]
    lines += [
        f"### {spec.company_display} {spec.lever} Lever",
        *_spaced(paragraphs[3:5]),
    ]
    lines += ["", "**Global Levers**"]
    for number, text in enumerate(paragraphs[5:-1], start=1):
        lines.append(f'{number}. **{_LEVERS[number % len(_LEVERS)]}:** "{text}"')
    lines += ["", f'> **Negotiate Up Strategy:** "{paragraphs[-1]}"', ""]
    lines += ["#### Evidence & Sources"]
    lines += [f"- {source}" for source in spec.data_sources]
    lines += [f"- {spec.company_display} Q4 2025 Earnings Report, February 2026"]
    return "\n".join(lines) + "\n"


def _spaced(paragraphs: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for paragraph in paragraphs:
        out += ["", paragraph]
    return out


def render(spec: Spec) -> bytes:
    return (frontmatter(spec) + body(spec)).encode("utf-8")


def path_of(root: Path, spec: Spec) -> Path:
    return root / spec.company / f"{spec.role}.md"


# Writing folders


@dataclass
class Written:
    """What a write to the corpus folder did."""

    written: int = 0
    unchanged: int = 0
    removed: int = 0
    total_bytes: int = 0


def _put(path: Path, data: bytes, stats: Written) -> None:
    stats.total_bytes += len(data)
    try:
        if path.read_bytes() == data:
            stats.unchanged += 1
            return
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    stats.written += 1


def write_corpus(root: Path, guides: int, seed: int = 1, step: int = 0) -> Written:
    """Bring ``root`` to quarter ``step``: files whose bytes would not change are left
    alone (so their modification times stay), removed guides' files are deleted."""
    stats = Written()
    for index in range(guides):
        spec = spec_at(seed, index, step)
        if spec is None:
            base = base_spec(seed, index)
            path = path_of(root, base)
            if path.exists():
                path.unlink()
                stats.removed += 1
            continue
        _put(path_of(root, spec), render(spec), stats)
    return stats


def edit(
    root: Path, guides: int, fraction: float, seed: int = 1, step: int = 0
) -> Written:
    """Correct one figure in ``fraction`` of the guides, within their quarter."""
    stats = Written()
    rng = random.Random(f"{seed}:edit:{step}:{fraction}")
    chosen = sorted(rng.sample(range(guides), max(1, round(guides * fraction))))
    for index in chosen:
        spec = spec_at(seed, index, step)
        if spec is not None:
            _put(path_of(root, spec), render(corrected(spec, seed, index)), stats)
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--guides", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--step", type=int, default=0)
    args = parser.parse_args()
    stats = write_corpus(args.out, args.guides, args.seed, args.step)
    print(
        f"{args.out}: {stats.written} written, {stats.unchanged} unchanged, "
        f"{stats.removed} removed, {stats.total_bytes / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
