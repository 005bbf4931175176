package aegis.authz

# Secrets: the built-in deny of paths that look like secret stores, and what the gateway does
# with secrets it finds in tool output (docs/policy.md, "Secrets"). The secret-store globs are
# data (data.aegis.policy.secrets.store_paths.entries), written by policy_compiler with the
# regular expressions of every other path glob, and matched against the lower-cased path.

# METADATA
# title: Secret-store path
# description: |
#   The path matches a built-in secret-store glob (.env, *.pem, id_rsa, .ssh/**, ...) and
#   secrets.store_paths is not allow. A deny: no path allow overrides it.
# custom:
#   reason: builtin.secret_store_paths
_denials contains [25, 0, _builtin(rego.metadata.rule(), "deny")] if {
	_policy.secrets.store_paths.effect != "allow"
	_secret_store_path
}

# METADATA
# title: Secret-store path allowed by the policy
# description: secrets.store_paths is allow and the path is a secret store, so the allow relied on that setting.
_supports contains [25, 0, _reason(_policy.secrets.store_paths, "allow")] if {
	_policy.secrets.store_paths.effect == "allow"
	_secret_store_path
}

_secret_store_path if {
	_path_given
	_secret_store(_path)
}

# Through the list's index (_glob_hits): a path that is no secret store is told so by a regex or two,
# not by one per glob.
_secret_store(path) if {
	lowered := lower(path)
	some i in _glob_hits(_policy.secrets.store_paths, lowered)
	not _excepted(_policy.secrets.store_paths.entries[i], lowered)
}

_excepted(entry, path) if {
	some exception in entry.unless
	regex.match(exception.regex, path)
}

# METADATA
# title: Secrets in output
# description: |
#   The obligation "secrets" of an allowed call: "mask" only when secrets.output and the
#   secrets.output of every repository key matching the call (that sets one) are all mask;
#   otherwise "block". The strictest setting wins, and anything unreadable blocks.
default _secrets_output := "block"

_secrets_output := "mask" if {
	_policy.secrets.output.mode == "mask"
	every rules in _repo_sets {
		_masks(rules.secrets.output)
	}
}

_masks(null)

_masks(setting) if setting.mode == "mask"
