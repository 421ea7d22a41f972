"""A deterministic, realistic retail sales table for demos, tests and benchmarks.

``sales_frame()`` returns the same rows for the same arguments on every machine: three years of
dated orders with region, country, product, category, quantity, unit price, discount, revenue
and customer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

REGIONS = {
    "Europe": ["Germany", "France", "Spain", "Italy", "Poland"],
    "North America": ["United States", "Canada", "Mexico"],
    "Asia Pacific": ["Japan", "Australia", "India", "Singapore"],
    "Latin America": ["Brazil", "Peru", "Chile", "Argentina"],
}
PRODUCTS = {  # product -> (category, list price)
    "Laptop": ("Electronics", 1200.0), "Phone": ("Electronics", 800.0), "Tablet": ("Electronics", 450.0),
    "Headphones": ("Electronics", 150.0), "Desk": ("Furniture", 350.0), "Chair": ("Furniture", 180.0),
    "Bookshelf": ("Furniture", 220.0), "Lamp": ("Furniture", 60.0), "Notebook": ("Office Supplies", 4.5),
    "Pen": ("Office Supplies", 1.8), "Stapler": ("Office Supplies", 12.0), "Printer Paper": ("Office Supplies", 9.0),
}
REGION_WEIGHTS = [0.34, 0.30, 0.22, 0.14]
PRODUCT_WEIGHTS = [0.08, 0.10, 0.07, 0.09, 0.05, 0.08, 0.04, 0.07, 0.14, 0.12, 0.07, 0.09]


def sales_frame(n_orders: int = 20_000, *, start: str = "2022-01-01", years: int = 3, seed: int = 7) -> pd.DataFrame:
    """``n_orders`` orders between ``start`` and ``years`` later, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    first = pd.Timestamp(start)
    days = (first + pd.DateOffset(years=years) - first).days
    # more orders as time goes on (about +25% a year) and a peak in November and December
    calendar = first + pd.to_timedelta(np.arange(days), unit="D")
    weight = (1.0 + 0.25 * np.arange(days) / 365.25) * np.where(calendar.month.isin([11, 12]), 1.6, 1.0)
    day = np.sort(rng.choice(days, n_orders, p=weight / weight.sum()))
    dates = first + pd.to_timedelta(day, unit="D")
    regions = list(REGIONS)
    region_idx = rng.choice(len(regions), n_orders, p=REGION_WEIGHTS)
    region = np.array(regions)[region_idx]
    country = np.array([REGIONS[r][rng.integers(len(REGIONS[r]))] for r in region])
    names = list(PRODUCTS)
    product = np.array(names)[rng.choice(len(names), n_orders, p=PRODUCT_WEIGHTS)]
    category = np.array([PRODUCTS[p][0] for p in product])
    base = np.array([PRODUCTS[p][1] for p in product])
    price = np.round(base * rng.uniform(0.9, 1.1, n_orders), 2)
    cheap = base < 20
    quantity = np.where(cheap, rng.integers(5, 120, n_orders), rng.integers(1, 6, n_orders))
    discount = np.round(rng.choice([0.0, 0.0, 0.0, 0.05, 0.1, 0.15, 0.2], n_orders), 2)
    month = dates.month.to_numpy()
    discount = np.where(np.isin(month, [11, 12]) & (discount == 0), 0.1, discount)
    revenue = np.round(quantity * price * (1 - discount), 2)
    customer = np.array([f"C{n:04d}" for n in rng.integers(1, 1500, n_orders)])
    return pd.DataFrame(
        {
            "order_id": np.arange(1, n_orders + 1, dtype="int64"),
            "order_date": dates.normalize(),
            "region": region,
            "country": country,
            "product": product,
            "category": category,
            "quantity": quantity.astype("int64"),
            "unit_price": price,
            "discount": discount,
            "revenue": revenue,
            "customer": customer,
        }
    )
