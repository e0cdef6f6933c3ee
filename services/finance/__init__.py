"""The finance service: the allowance policy by version (PAY-3..PAY-7) and the ledger (ACC-1)."""
