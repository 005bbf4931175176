package aegis.authz

# Which tools a caller is shown: those some call could be allowed for. A tool denied (or
# left off the allowlist) globally is never shown; a write tool only with WRITE_MODE on and
# some whitelisted repository where it could be allowed; a read tool when the default or the
# rules of some repository could allow it.

_visible_names contains tool.name if {
	some tool in input.tools
	_has_scope(input.principal, tool.capability)
	_tool_permitted_by(_policy, tool.name)
	_could_allow(tool)
}

# METADATA
# title: A read tool could be allowed
# description: |
#   On a repository without its own rules (there always is one) when the default or the global
#   allowlist allows it, or on a repository whose rules allow it.
_could_allow(tool) if {
	tool.capability == "read"
	_grantable_by(_no_rules, "read", tool.name)
}

_could_allow(tool) if {
	tool.capability == "read"
	some rules in _policy.repositories
	_tool_permitted_by(rules, tool.name)
	_grantable_by(rules, "read", tool.name)
}

# METADATA
# title: A write tool could be allowed
# description: WRITE_MODE is on and some whitelisted repository's rules permit and allow it.
_could_allow(tool) if {
	tool.capability == "write"
	input.context.write_mode == true
	some entry in _policy.write.repositories.entries
	rules := _rules_of(entry.repo)
	_tool_permitted_by(rules, tool.name)
	_grantable_by(rules, "write", tool.name)
}

# An explicit allow exists for tool `name` of `capability` under repository rules `rules`.
_grantable_by(_, capability, _) if _policy.defaults[capability].effect == "allow"

_grantable_by(_, _, name) if _listed(_policy.tools.allow, name)

_grantable_by(rules, _, name) if _listed(rules.tools.allow, name)
