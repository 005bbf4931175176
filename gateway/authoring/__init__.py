"""Tools for policy authors and reviewers: explain a decision, test a policy, diff two policies."""
