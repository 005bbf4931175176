package aegis.authz

# Which tools a caller is shown: those some call could be allowed for. A tool denied (or left off
# the allowlist) globally or denied by a role of the caller is never shown, nor is any tool to a
# principal outside its time window; a write or automation tool only with WRITE_MODE on and some
# whitelisted repository where it could be allowed; a read tool when the default, a role, or the
# rules of some repository could allow it. Paths, branches, sizes and repository scopes are not
# considered (docs/policy.md).

_visible_names contains tool.name if {
	some tool in input.tools
	_has_scope(input.principal, tool.capability)
	not _window_closed
	not _role_denies(tool.name)
	_tool_permitted_by({"tools": _policy.tools}, tool.name)
	_could_allow(tool)
}

_role_denies(name) if {
	some [_, role] in _held
	_listed(role.tools.deny, name)
}

# METADATA
# title: A read tool could be allowed
# description: |
#   On a repository without its own rules (there always is one) when the default, the global
#   allowlist or a role allows it, or on a repository key whose rules permit and allow it.
_could_allow(tool) if {
	tool.capability == "read"
	_grantable_by(set(), "read", tool.name)
}

_could_allow(tool) if {
	tool.capability == "read"
	some rules in _all_rule_sets
	_tool_permitted_by(rules, tool.name)
	_grantable_by({rules}, "read", tool.name)
}

# METADATA
# title: A write or automation tool could be allowed
# description: |
#   WRITE_MODE is on and, for some entry of write.repositories (a glob stands for one sample
#   repository it matches), every matching rule set permits the tool and something allows it.
_could_allow(tool) if {
	tool.capability in {"write", "automation"}
	input.context.write_mode == true
	some entry in _policy.write.repositories.entries
	sets := _rule_sets_of(object.get(entry, "example", entry.repo))
	every rules in sets {
		_tool_permitted_by(rules, tool.name)
	}
	_grantable_by(sets, tool.capability, tool.name)
}

_all_rule_sets contains rules if some rules in _policy.repositories

_all_rule_sets contains rules if some rules in _policy.repository_globs.any_owner

_all_rule_sets contains rules if {
	some globs in _policy.repository_globs.by_owner
	some rules in globs
}

# An explicit allow exists for tool `name` of `capability` under the repository rule sets `sets`.
_grantable_by(_, capability, _) if _policy.defaults[capability].effect == "allow"

_grantable_by(_, _, name) if _listed(_policy.tools.allow, name)

_grantable_by(sets, _, name) if {
	some rules in sets
	_listed(rules.tools.allow, name)
}

_grantable_by(_, capability, name) if {
	some [_, role] in _held
	_role_grants_tool(role, capability, name)
}

_role_grants_tool(role, _, name) if _listed(role.tools.allow, name)

_role_grants_tool(role, capability, _) if {
	some entry in role.capabilities.entries
	entry.capability == capability
}
