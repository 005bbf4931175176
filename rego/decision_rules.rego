package aegis.authz

# The rules of one decision. Stages order the reasons:
#   5 capability | 6 scope | 10-11 global tools | 20-21 repository tools | 30-31 paths
#   40-41 write gate | 50 defaults (the explicit allow, or its absence)

_tool_name := input.tool.name

_capability := input.tool.capability

_path := input.resource.path

_repo_rules := _rules_of(input.resource.repo)

_known_capability if _capability in {"read", "write"}

_is_write if _capability == "write"

_path_given if is_string(_path)

_has_scope(principal, capability) if concat(":", ["tools", capability]) in principal.scopes

# METADATA
# title: Unknown capability
# description: Only "read" and "write" tools exist; any other capability is denied.
# custom:
#   reason: capability.unknown
_denials contains [5, 0, _builtin(rego.metadata.rule(), "deny")] if not _known_capability

# METADATA
# title: Key lacks the scope of the capability
# description: The caller's key does not carry "tools:read" for a read tool or "tools:write" for a write tool.
# custom:
#   reason: principal.scope
_denials contains [6, 0, _builtin(rego.metadata.rule(), "deny")] if {
	_known_capability
	not _has_scope(input.principal, _capability)
}

# METADATA
# title: Tool denied globally
# description: The tool is on the global tools.deny list.
_denials contains [10, i, _reason(entry, "deny")] if {
	some i, entry in _policy.tools.deny.entries
	entry.name == _tool_name
}

# METADATA
# title: Tool not on the global allowlist
# description: A non-empty global tools.allow list does not name the tool.
_denials contains [11, 0, _reason(_policy.tools.allow, "deny")] if {
	not _allowlist_permits(_policy.tools.allow, _tool_name)
}

# METADATA
# title: Tool denied for the repository
# description: The tool is on the repository's tools.deny list.
_denials contains [20, i, _reason(entry, "deny")] if {
	some i, entry in _repo_rules.tools.deny.entries
	entry.name == _tool_name
}

# METADATA
# title: Tool not on the repository allowlist
# description: The repository's non-empty tools.allow list does not name the tool.
_denials contains [21, 0, _reason(_repo_rules.tools.allow, "deny")] if {
	not _allowlist_permits(_repo_rules.tools.allow, _tool_name)
}

# METADATA
# title: Path denied
# description: A glob of the repository's paths.deny list matches the path of the call.
_denials contains [30, i, _reason(entry, "deny")] if {
	_path_given
	some i, entry in _repo_rules.paths.deny.entries
	regex.match(entry.regex, _path)
}

# METADATA
# title: Path not on the allowlist
# description: No glob of the repository's non-empty paths.allow list matches the path of the call.
_denials contains [31, 0, _reason(_repo_rules.paths.allow, "deny")] if {
	_path_given
	not _path_allowlist_permits(_repo_rules.paths.allow, _path)
}

# METADATA
# title: WRITE_MODE is off
# description: A write needs WRITE_MODE on (input.context.write_mode), whatever the policy says.
# custom:
#   reason: context.write_mode
_denials contains [40, 0, _builtin(rego.metadata.rule(), "deny")] if {
	_is_write
	input.context.write_mode != true
}

# METADATA
# title: Repository not on the write whitelist
# description: A write needs its repository on write.repositories.
_denials contains [41, 0, _reason(_policy.write.repositories, "deny")] if {
	_is_write
	not _write_whitelisted
}

# METADATA
# title: No explicit allow
# description: |
#   Nothing allows the call: the default for its capability is deny and no tools.allow
#   list names the tool.
_denials contains [50, 0, _reason(_policy.defaults[_capability], "deny")] if {
	_known_capability
	count(_grants) == 0
}

# METADATA
# title: Explicit allows
# description: The default for the capability when it is allow, and every tools.allow entry naming the tool.
_grants contains [50, 0, _reason(default_rule, "allow")] if {
	_known_capability
	default_rule := _policy.defaults[_capability]
	default_rule.effect == "allow"
}

_grants contains [11, i, _reason(entry, "allow")] if {
	some i, entry in _policy.tools.allow.entries
	entry.name == _tool_name
}

_grants contains [21, i, _reason(entry, "allow")] if {
	some i, entry in _repo_rules.tools.allow.entries
	entry.name == _tool_name
}

# METADATA
# title: Allows the decision relied on
# description: The matching paths.allow globs, and for a write the write gate.
_supports contains [31, i, _reason(entry, "allow")] if {
	_path_given
	some i, entry in _repo_rules.paths.allow.entries
	regex.match(entry.regex, _path)
}

# METADATA
# title: WRITE_MODE is on
# description: The write gate's first condition holds.
# custom:
#   reason: context.write_mode
_supports contains [40, 0, _builtin(rego.metadata.rule(), "allow")] if {
	_is_write
	input.context.write_mode == true
}

_supports contains [41, i, _reason(entry, "allow")] if {
	_is_write
	some i, entry in _policy.write.repositories.entries
	entry.repo == input.resource.repo
}

_write_whitelisted if {
	some entry in _policy.write.repositories.entries
	entry.repo == input.resource.repo
}
