"""The cost side: a daily usage ledger per AWS resource, its allocation to tenants, runs and reconcile."""
