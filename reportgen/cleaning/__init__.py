"""Cleaning as an account: CLEANING_STEPS declared as data (steps.py), the account of what they did (account.py),
and the pandas engine's run of them (pandas.py)."""
