"""Write ``temperatures.csv``: a seeded synthetic year of daily temperatures (°F).

The mini-batch deck (/work/shared/lectures/001_*.txt, "Trung bình trượt") teaches exponentially
weighted averages on a year of daily temperatures; it lists five of them::

    θ₁ = 40°F, θ₂ = 49°F, θ₃ = 45°F, …, θ₁₈₀ = 60°F, θ₁₈₁ = 56°F

This year is made up, not measured: a seasonal curve (cool in January, warm in July) plus
day-to-day weather as an AR(1) process, from a fixed seed, rounded to 0.1 °F. The deck's five
days are then set to the deck's values, so its worked example can be read off the app's series.

Run from the repository root: ``python optviz/data/make_temperatures.py`` (rewrites the CSV; the
same seed gives the same file, and ``tests/test_ema.py`` checks that).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SEED = 20260101
DAYS = 365
DECK_DAYS = {1: 40.0, 2: 49.0, 3: 45.0, 180: 60.0, 181: 56.0}  # day -> °F, from the deck
CSV = Path(__file__).with_name("temperatures.csv")


def temperatures(seed: int = SEED, days: int = DAYS) -> np.ndarray:
    """Daily temperatures in °F for day 1..days (index 0 is day 1)."""
    rng = np.random.default_rng(seed)
    t = np.arange(1, days + 1, dtype=float)
    season = 52.0 - 14.0 * np.cos(2.0 * np.pi * (t - 20.0) / 365.0)
    weather = np.empty(days)
    level = 0.0
    for i in range(days):  # AR(1): a warm day tends to follow a warm day
        level = 0.7 * level + rng.normal(0.0, 4.0)
        weather[i] = level
    out = np.round(season + weather, 1)
    for day, value in DECK_DAYS.items():
        if day <= days:
            out[day - 1] = value
    return out


def csv_text(values: np.ndarray) -> str:
    """The CSV file's text: a header, then ``day,temperature_F`` per line."""
    rows = [f"{day},{value:.1f}" for day, value in enumerate(values, start=1)]
    return "day,temperature_F\n" + "\n".join(rows) + "\n"


def main() -> None:
    CSV.write_text(csv_text(temperatures()))
    print(f"wrote {CSV}")


if __name__ == "__main__":
    main()
