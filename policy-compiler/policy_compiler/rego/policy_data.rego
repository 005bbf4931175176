package aegis.authz

# Read access to the compiled policy (data.aegis.policy) shared by decision and visible_tools.
# Every lookup by repository, and every match of a path or branch against a list of globs, goes
# through an index the compiler built, so its cost does not grow with the number of rules.

_policy := data.aegis.policy

_owner(repo) := split(repo, "/")[0]

# METADATA
# title: Repository rules
# description: |
#   Every rule set that applies to repository `repo` (lower-cased owner/name): the one of its
#   exact key, and those of the repository globs that match it. Only the globs of its owner and
#   the globs with a wildcard owner are tried. Empty for a call without a repository.
_rule_sets_of(repo) := ({rules | rules := _policy.repositories[repo]} | {rules |
	is_string(repo)
	some rules in _policy.repository_globs.by_owner[_owner(repo)]
	regex.match(rules.regex, repo)
}) | {rules |
	is_string(repo)
	some rules in _policy.repository_globs.any_owner
	regex.match(rules.regex, repo)
}

# METADATA
# title: Repository list hits
# description: The positions of the entries of repository list `list` (exact names or globs) matching `repo`.
_repo_list_hits(list, repo) := ({i | i := list.index.exact[repo]} | {i |
	is_string(repo)
	some i in list.index.by_owner[_owner(repo)]
	regex.match(list.entries[i].regex, repo)
}) | {i |
	is_string(repo)
	some i in list.index.any_owner
	regex.match(list.entries[i].regex, repo)
}

# A tool is on list `list` (of tool names).
_listed(list, name) if {
	some entry in list.entries
	entry.name == name
}

# An allowlist lets `name` through: it is empty (no restriction) or names it.
_allowlist_permits(list, _) if count(list.entries) == 0

_allowlist_permits(list, name) if _listed(list, name)

# METADATA
# title: Glob list hits
# description: |
#   The positions of the globs of list `list` (path or branch globs) matching `path`. Only the
#   chunks of the globs whose literal first segment is the one of `path`, and of those whose first
#   segment has a wildcard, are tried: each with its combined expression, and where that matches,
#   glob by glob. A list without entries may come without an index.
_glob_hits(list, path) := {i |
	some chunks in [object.get(list.index.by_segment, split(path, "/")[0], []), list.index.any_segment]
	some chunk in chunks
	regex.match(chunk.regex, path)
	some i in chunk.entries
	regex.match(list.entries[i].regex, path)
}

# A path allowlist lets `path` through: it is empty or one of its globs matches.
_path_allowlist_permits(list, _) if count(list.entries) == 0

_path_allowlist_permits(list, path) if count(_glob_hits(list, path)) > 0

# Neither the deny list nor the allowlist of `rules` stops tool `name`.
_tool_permitted_by(rules, name) if {
	not _listed(rules.tools.deny, name)
	_allowlist_permits(rules.tools.allow, name)
}
