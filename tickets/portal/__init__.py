"""The client portal at /hc/<org>/requests/: sign in by email, see one's requests, open new ones."""
