package aegis.authz

# The rules of one decision. Stages order the reasons (docs/policy.md, "Precedence"):
#   5 capability | 6 scope | 7 principal window | 8 principal repositories | 9 role denies
#   10-11 global tools | 20-21 repository tools | 25 secret-store paths (secrets.rego)
#   30-35 paths: repository, role, principal (paths.rego) | 36 size limits
#   40-42 write gate | 50-52 explicit allows (or their absence), and for an automation job its
#   automation grant beside them: defaults.automation at 50 (its deny when nothing grants automation),
#   a role's capabilities entry at 52 with the membership at 9 (principals.rego)

_tool_name := input.tool.name

_capability := input.tool.capability

_repo := input.resource.repo

_path := input.resource.path

_size := object.get(input.resource, "size", null)

_branch := object.get(input.resource, "branch", null)

_repo_sets := _rule_sets_of(_repo)

_known_capability if _capability in {"read", "write", "automation"}

# METADATA
# title: Gated capabilities
# description: Writes and automation change state, so both pass the write gate.
_gated if _capability in {"write", "automation"}

_path_given if is_string(_path)

# METADATA
# title: Automation job
# description: |
#   The caller is an automation job: principal kind "automation", or an id "automation:<job>"
#   (which no API key name can be). Its calls need an automation grant on top of everything the
#   same call of the tool's own capability needs.
_automation_job if input.principal.kind == "automation"

_automation_job if {
	is_string(input.principal.id)
	startswith(input.principal.id, "automation:")
}

_has_scope(principal, capability) if concat(":", ["tools", capability]) in principal.scopes

# METADATA
# title: Unknown capability
# description: Only "read", "write" and "automation" tools exist; any other capability is denied.
# custom:
#   reason: capability.unknown
_denials contains [5, 0, _builtin(rego.metadata.rule(), "deny")] if not _known_capability

# METADATA
# title: Key lacks the scope of the capability
# description: The caller's key does not carry "tools:<capability>" (tools:read, tools:write, tools:automation).
# custom:
#   reason: principal.scope
_denials contains [6, 0, _builtin(rego.metadata.rule(), "deny")] if {
	_known_capability
	not _has_scope(input.principal, _capability)
}

# METADATA
# title: Automation job lacks the automation scope
# description: An automation job's principal does not carry "tools:automation", whatever the tool's capability.
# custom:
#   reason: principal.scope
_denials contains [6, 0, _builtin(rego.metadata.rule(), "deny")] if {
	_known_capability
	_automation_job
	not _has_scope(input.principal, "automation")
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
# description: The tool is on the tools.deny list of a repository key (exact or glob) matching the call's repository.
_denials contains [20, i, _reason(entry, "deny")] if {
	some rules in _repo_sets
	some i, entry in rules.tools.deny.entries
	entry.name == _tool_name
}

# METADATA
# title: Tool not on the repository allowlist
# description: The non-empty tools.allow list of a matching repository key does not name the tool.
_denials contains [21, 0, _reason(rules.tools.allow, "deny")] if {
	some rules in _repo_sets
	not _allowlist_permits(rules.tools.allow, _tool_name)
}

# METADATA
# title: File too large
# description: The call's size (resource.size, when known) exceeds a size limit that applies to it.
_denials contains [36, 0, _reason(limit, "deny")] if {
	is_number(_size)
	some limit in _limits
	_size > limit.bytes
}

# METADATA
# title: WRITE_MODE is off
# description: A write needs WRITE_MODE on (input.context.write_mode), whatever the policy says.
# custom:
#   reason: context.write_mode
_denials contains [40, 0, _builtin(rego.metadata.rule(), "deny")] if {
	_gated
	input.context.write_mode != true
}

# METADATA
# title: Repository not on the write whitelist
# description: A write needs its repository on write.repositories (an exact name or a matching glob).
_denials contains [41, 0, _list_reason(_policy.write.repositories.rule, _policy.write.repositories.source)] if {
	_gated
	count(_write_hits) == 0
}

# METADATA
# title: Branch not allowed for writes
# description: A write naming its target branch needs a glob of a non-empty write.branches to match it.
_denials contains [42, 0, _reason(_policy.write.branches, "deny")] if {
	_gated
	is_string(_branch)
	count(_policy.write.branches.entries) > 0
	count(_branch_hits) == 0
}

# METADATA
# title: No explicit allow
# description: |
#   Nothing allows the call: the default for its capability is deny and no tools.allow
#   list or role grants the tool.
_denials contains [50, 0, _reason(_policy.defaults[_capability], "deny")] if {
	_known_capability
	count(_grants) == 0
}

# METADATA
# title: No automation grant
# description: |
#   An automation job's call, whatever the tool's capability, needs defaults.automation to be
#   allow or a role the job holds, applying to the call's repository, to list automation in
#   its capabilities. Without one it is denied by defaults.automation.
_denials contains [50, 0, _reason(_policy.defaults.automation, "deny")] if {
	_known_capability
	_automation_job
	count(_automation_grants) == 0
}

# METADATA
# title: Size limits
# description: |
#   The max_file_bytes limits that apply to a call with a path: the global one and those of
#   every matching repository key.
_limits contains limit if {
	_path_given
	limit := _policy.limits.max_file_bytes
	limit != null
}

_limits contains limit if {
	_path_given
	some rules in _repo_sets
	limit := rules.limits.max_file_bytes
	limit != null
}

# The write whitelist may be long: its index is read in place (a function argument would copy it).
_write_hits := ({i | i := _policy.write.repositories.index.exact[_repo]} | {i |
	is_string(_repo)
	some i in _policy.write.repositories.index.by_owner[_owner(_repo)]
	regex.match(_policy.write.repositories.entries[i].regex, _repo)
}) | {i |
	is_string(_repo)
	some i in _policy.write.repositories.index.any_owner
	regex.match(_policy.write.repositories.entries[i].regex, _repo)
}

# The reason naming a whole list, built from its name and source only: a long list is not copied.
_list_reason(rule, source) := {"rule": rule, "effect": "deny", "source": source}

_branch_hits contains i if {
	is_string(_branch)
	some i in _glob_hits(_policy.write.branches, _branch)
}

# METADATA
# title: Explicit allows
# description: |
#   The default for the capability when it is allow, every tools.allow entry (global, or of a
#   matching repository key) naming the tool, and the grants of the caller's roles.
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
	some rules in _repo_sets
	some i, entry in rules.tools.allow.entries
	entry.name == _tool_name
}

# METADATA
# title: Automation grants
# description: |
#   What lets an automation job's call pass the automation gate: defaults.automation when it is
#   allow, and the capabilities entries naming automation of the roles the job holds that apply
#   to the call (principals.rego). They support an allow; they are no explicit allow of a read or
#   a write, which still needs its own.
_automation_grants contains [50, 0, _reason(default_rule, "allow")] if {
	_automation_job
	default_rule := _policy.defaults.automation
	default_rule.effect == "allow"
}

_automation_grants contains grant if some [_, grant] in _automation_role_grants

_supports contains grant if {
	_known_capability
	some grant in _automation_grants
}

# METADATA
# title: WRITE_MODE is on
# description: The write gate's first condition holds.
# custom:
#   reason: context.write_mode
_supports contains [40, 0, _builtin(rego.metadata.rule(), "allow")] if {
	_gated
	input.context.write_mode == true
}

_supports contains [41, i, _reason(entry, "allow")] if {
	_gated
	some i in _write_hits
	entry := _policy.write.repositories.entries[i]
}

_supports contains [42, i, _reason(entry, "allow")] if {
	_gated
	some i in _branch_hits
	entry := _policy.write.branches.entries[i]
}

# The require_approval entries naming a gated call's tool: [0, i, entry] for the global list,
# [1, [key rule, i], entry] for a matching repository key (sorting orders them by key).
_approvals contains [0, i, _approval(entry)] if {
	_gated
	some i, entry in _policy.write.require_approval.entries
	entry.name == _tool_name
}

_approvals contains [1, [rules.rule, i], _approval(entry)] if {
	_gated
	some rules in _repo_sets
	some i, entry in rules.require_approval.entries
	entry.name == _tool_name
}

_approval(entry) := {"rule": entry.rule, "source": entry.source}
