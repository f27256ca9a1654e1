"""Business logic as plain functions: they take plain arguments, change data, commit, and
send signals after the commit. Views only turn requests into calls of these."""
