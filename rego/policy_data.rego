package aegis.authz

# Read access to the compiled policy (data.aegis.policy) shared by decision and visible_tools.

_policy := data.aegis.policy

# The rules of a repository without a repositories entry: only the global rules apply to it.
_no_rules := {
	"tools": {"allow": _empty_list, "deny": _empty_list},
	"paths": {"allow": _empty_list, "deny": _empty_list},
}

_empty_list := {"rule": "", "source": "builtin", "entries": []}

# METADATA
# title: Repository rules
# description: The rules of repository `repo` (lower-cased owner/name), or none when it has no entry.
_rules_of(repo) := rules if {
	rules := _policy.repositories[repo]
} else := _no_rules

# A tool is on list `list` (of tool names).
_listed(list, name) if {
	some entry in list.entries
	entry.name == name
}

# An allowlist lets `name` through: it is empty (no restriction) or names it.
_allowlist_permits(list, _) if count(list.entries) == 0

_allowlist_permits(list, name) if _listed(list, name)

# A path allowlist lets `path` through: it is empty or one of its globs matches.
_path_allowlist_permits(list, _) if count(list.entries) == 0

_path_allowlist_permits(list, path) if {
	some entry in list.entries
	regex.match(entry.regex, path)
}

# Neither the deny list nor the allowlist of `rules` stops tool `name`.
_tool_permitted_by(rules, name) if {
	not _listed(rules.tools.deny, name)
	_allowlist_permits(rules.tools.allow, name)
}
