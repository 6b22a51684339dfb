"""The finance side of the cost ledger: month overviews, a tenant's cost page, budgets, rates, exports."""
