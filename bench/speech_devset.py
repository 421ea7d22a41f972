"""The spoken dev set of bench/speech_accuracy.py: questions, voices and a second table.

Held out: no test speaks these questions (tests/ use "what was the total revenue by region",
"average unit price by category" and "average profit by region"). Questions cover the demo
``sales`` table (snake_case) and a ``staff`` table made here, whose camelCase, abbreviated
names (``dept``, ``bonusPct``, ``yrsExp``, ``officeCity``) and accented city values are what a
schema prompt should help with.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SALES_QUESTIONS = (
    "top five products by revenue",
    "how many customers do we have",
    "revenue by country in Europe",
    "quarterly revenue by region",
    "how many orders in twenty twenty two",
    "total quantity sold by product",
    "average discount by region",
    "monthly revenue in twenty twenty three",
    "revenue by product in Germany and France",
    "total revenue in Latin America by country",
    "which category has the lowest revenue",
    "bottom three products by quantity",
    "maximum unit price by category",
    "number of orders by region",
    "total revenue in March twenty twenty three",
    "average quantity of headphones by country",
    "total revenue for office supplies by product",
    "which country has the highest revenue",
    "revenue by category since twenty twenty four",
    "median quantity by product for laptops",
    "total revenue in Peru",
    "average unit price of printer paper by region",
)
STAFF_QUESTIONS = (
    "average annual salary by department",
    "average salary by job level",
    "how many employees are in Krakow",
    "average bonus percent by office city",
    "average performance score by department",
    "total direct reports by job level",
    "average annual salary in Zurich",
    "number of employees by office city",
    "maximum annual salary in Bogota by job level",
    "average years of experience by department",
    "how many directors are there",
    "average bonus percent in human resources",
)
QUESTIONS = SALES_QUESTIONS + STAFF_QUESTIONS

# Written on 2026-11-26 before any spoken-question repair was tuned, and never used to tune one:
# the bench reports spoken accuracy on these separately from QUESTIONS above, whose misses were
# read while the repairs were built (so QUESTIONS is a tuning set from then on).
HELD_OUT_QUESTIONS = (
    "total revenue by category",
    "how many orders in Canada",
    "total quantity by category in twenty twenty four",
    "weekly revenue in January twenty twenty four",
    "top three countries by quantity",
    "minimum revenue by region",
    "count of customers by country",
    "revenue for phones by month",
    "total revenue for electronics in Asia Pacific",
    "which region sold the most chairs",
    "average quantity by category",
    "yearly revenue by category",
    "how many products do we sell",
    "total discount by country",
    "top ten customers by revenue",
    "revenue by region in twenty twenty three",
    "average unit price in North America",
    "total revenue for notebooks and pens",
    "average bonus percent by job level",
    "how many employees by department",
    "maximum performance score by office city",
    "average years of experience in engineering",
    "total annual salary by office city",
    "how many seniors work in Berlin",
    "minimum annual salary by department",
    "number of employees hired by year",
    "average direct reports by department",
    "employees in Toronto by job level",
    "lowest bonus percent by department",
    "total bonus percent for marketing by job level",
)


@dataclass(frozen=True)
class Voice:
    """A Debian text-to-speech voice: ``command`` speaks ``text`` into the WAV at ``out``."""

    name: str
    tool: str

    def available(self) -> bool:
        return shutil.which(self.tool) is not None

    def speak(self, text: str, out: Path) -> Path:
        raw = out.with_suffix(".raw.wav")
        if self.tool == "espeak-ng":
            voice, speed = self.name.split(":")[1:]
            subprocess.run(["espeak-ng", "-v", voice, "-s", speed, "-w", str(raw), text], check=True, capture_output=True)
        elif self.tool == "text2wave":  # festival, with its default (kal_diphone) voice
            subprocess.run(["text2wave", "-o", str(raw)], input=text.encode(), check=True, capture_output=True)
        else:
            raise ValueError(self.tool)
        # -D: no dither. sox dithers with fresh random noise on every run, and that alone flipped
        # tiny.en's words on a few borderline clips (about +-5 words of 189 between runs)
        subprocess.run(["sox", "-D", str(raw), "-r", "16000", "-c", "1", str(out), "pad", "0.3", "0.5"], check=True,
                       capture_output=True)
        raw.unlink()
        return out


VOICES = (
    Voice("espeak-ng:en-us:150", "espeak-ng"),
    Voice("espeak-ng:en-gb-x-rp:140", "espeak-ng"),
    Voice("festival:kal_diphone", "text2wave"),
)

CITIES = ["Kraków", "Zürich", "Bogotá", "Berlin", "Toronto", "Austin", "Lyon", "São Paulo"]
DEPTS = ["Engineering", "Sales", "Marketing", "Finance", "Support", "Human Resources", "Legal"]
LEVELS = ["Junior", "Mid", "Senior", "Lead", "Director"]


def staff_frame(n: int = 600, seed: int = 5) -> pd.DataFrame:
    """A deterministic staff table with camelCase, abbreviated column names."""
    rng = np.random.default_rng(seed)
    level = rng.choice(len(LEVELS), n, p=[0.28, 0.30, 0.24, 0.12, 0.06])
    return pd.DataFrame(
        {
            "employeeId": np.arange(1, n + 1, dtype="int64"),
            "dept": np.array(DEPTS)[rng.choice(len(DEPTS), n, p=[0.3, 0.18, 0.12, 0.1, 0.18, 0.07, 0.05])],
            "jobLevel": np.array(LEVELS)[level],
            "officeCity": np.array(CITIES)[rng.integers(0, len(CITIES), n)],
            "hireDate": (pd.Timestamp("2014-01-01") + pd.to_timedelta(rng.integers(0, 3650, n), unit="D")).normalize(),
            "annualSalary": np.round(45_000 + level * 20_000 + rng.normal(0, 6_000, n), 2),
            "bonusPct": np.round(np.clip(2 + level * 3 + rng.normal(0, 2, n), 0, 25), 1),
            "yrsExp": np.clip(level * 3 + rng.integers(0, 6, n), 0, 40).astype("int64"),
            "perfScore": np.round(np.clip(rng.normal(3.4, 0.7, n), 1, 5), 1),
            "numDirectReports": np.where(level >= 3, rng.integers(1, 10, n), 0).astype("int64"),
        }
    )
