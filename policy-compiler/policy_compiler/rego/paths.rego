package aegis.authz

# Path rules (docs/policy.md, "Path rules"): the paths.allow and paths.deny of every repository key
# matching the call, and under each such key the lists of the roles the caller holds and of the
# caller itself. A deny glob of any of them that matches the path denies the call; every one of
# their non-empty allowlists must match it. The same blocks decide the paths a result may show
# (result_paths.rego), so a call and the listing of its results cannot disagree.
# Stages: 30-31 repository key, 32-33 role, 34-35 principal (deny, then allowlist).

# The names of the roles the caller holds (principals.<id>.roles; never the input's roles).
_held_role_names contains member.role if some member in _principal.roles.entries

# METADATA
# title: Path rule blocks
# description: |
#   Every {allow, deny} pair of path globs that applies to the call, with its stage and a key
#   that orders its reasons: a matching repository key's paths, its paths.roles.<r> for each
#   role r the caller holds, and its paths.principals.<id> for the caller. Empty without a
#   repository.
_path_blocks contains {"stage": 30, "key": [rules.rule], "allow": rules.paths.allow, "deny": rules.paths.deny} if {
	some rules in _repo_sets
}

_path_blocks contains {"stage": 32, "key": [rules.rule, name], "allow": block.allow, "deny": block.deny} if {
	some rules in _repo_sets
	some name in _held_role_names
	block := rules.paths.roles[name]
}

_path_blocks contains {"stage": 34, "key": [rules.rule, id], "allow": block.allow, "deny": block.deny} if {
	id := input.principal.id
	some rules in _repo_sets
	block := rules.paths.principals[id]
}

# METADATA
# title: Path denied
# description: |
#   A deny glob of a path rule block that applies (the repository key's, a held role's, or the
#   caller's own) matches the path of the call.
_denials contains [block.stage, [block.key, i], _reason(entry, "deny")] if {
	_path_given
	some block in _path_blocks
	some i in _glob_hits(block.deny, _path)
	entry := block.deny.entries[i]
}

# METADATA
# title: Path not on the allowlist
# description: |
#   A non-empty allow list of a path rule block that applies (the repository key's, a held
#   role's, or the caller's own) has no glob matching the path.
_denials contains [block.stage + 1, [block.key, 0], _reason(block.allow, "deny")] if {
	_path_given
	some block in _path_blocks
	not _path_allowlist_permits(block.allow, _path)
}

# METADATA
# title: Path allows the decision relied on
# description: The allow globs that matched the path, of every block that applies.
_supports contains [block.stage + 1, [block.key, i], _reason(entry, "allow")] if {
	_path_given
	some block in _path_blocks
	some i in _glob_hits(block.allow, _path)
	entry := block.allow.entries[i]
}

# METADATA
# title: Path refused by the path rules
# description: A block that applies denies `path`, or does not allow it.
_path_refused_by_rules(path) if {
	some block in _path_blocks
	count(_glob_hits(block.deny, path)) > 0
}

_path_refused_by_rules(path) if {
	some block in _path_blocks
	not _path_allowlist_permits(block.allow, path)
}
