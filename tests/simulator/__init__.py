"""Tests of the Gitea API simulator (gitea-simulator/)."""
