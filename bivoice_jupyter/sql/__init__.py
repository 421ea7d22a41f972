"""SQL: the guard (rules), the schema catalog and ClickHouse execution."""
