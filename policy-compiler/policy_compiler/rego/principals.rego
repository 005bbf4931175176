package aegis.authz

# Principals and roles: a principal listed under `principals` (by its API key name) gets its
# time window, its repository scope, and the denies and grants of its roles on top of the
# global and repository rules. A principal not listed gets the global rules only.
# Denials and supports come first, by stage (7 time window, 8 repositories, 9 roles), then
# the rules they are built from.

_principal := _policy.principals[input.principal.id]

_now := time.parse_rfc3339_ns(input.context.time)

# METADATA
# title: Grant not yet valid
# description: The principal's not_before is later than input.context.time (or the time is unreadable).
_denials contains [7, 0, _reason(_principal.not_before, "deny")] if {
	_principal.not_before != null
	not _after_not_before
}

# METADATA
# title: Grant expired
# description: The principal's expires is not later than input.context.time (or the time is unreadable).
_denials contains [7, 1, _reason(_principal.expires, "deny")] if {
	_principal.expires != null
	not _before_expires
}

# METADATA
# title: Repository outside the principal's scope
# description: The principal lists repositories, and the call's repository matches none of them.
_denials contains [8, 0, _reason(_principal.repositories, "deny")] if {
	count(_principal.repositories.entries) > 0
	is_string(_repo)
	count(_principal_repo_hits) == 0
}

# METADATA
# title: Tool denied by a role
# description: A role the caller holds lists the tool in its tools.deny (on every call, whatever the repository).
_denials contains [9, i, _reason(entry, "deny")] if {
	some [_, role] in _held
	some i, entry in role.tools.deny.entries
	entry.name == _tool_name
}

_supports contains [7, 0, _reason(_principal.not_before, "allow")] if _after_not_before

_supports contains [7, 1, _reason(_principal.expires, "allow")] if _before_expires

_supports contains [8, i, _reason(entry, "allow")] if {
	some i in _principal_repo_hits
	entry := _principal.repositories.entries[i]
}

# A role that grants the call, or an automation job's automation grant, names its membership
# (principals.<id>.roles[j]) as well.
_supports contains [9, j, _reason(member, "allow")] if {
	some [j, _] in _role_grants
	member := _principal.roles.entries[j]
}

_supports contains [9, j, _reason(member, "allow")] if {
	_known_capability
	some [j, _] in _automation_role_grants
	member := _principal.roles.entries[j]
}

_grants contains grant if some [_, grant] in _role_grants

_after_not_before if _now >= _principal.not_before.ns

_before_expires if _now < _principal.expires.ns

# Outside its time window a principal is denied every call and shown no tool.
_window_closed if {
	_principal.not_before != null
	not _after_not_before
}

_window_closed if {
	_principal.expires != null
	not _before_expires
}

_principal_repo_hits := _repo_list_hits(_principal.repositories, _repo)

# The roles the caller holds: [position in principals.<id>.roles, role].
_held contains [j, _policy.roles[member.role]] if {
	some j, member in _principal.roles.entries
}

# A role's allows apply on its repositories only (on every call when it lists none).
_role_applies(role) if count(role.repositories.entries) == 0

_role_applies(role) if count(_repo_list_hits(role.repositories, _repo)) > 0

# METADATA
# title: Role grants
# description: |
#   A role the caller holds, applying to the call's repository, lists the tool in its
#   tools.allow or the call's capability in its capabilities. [j, reason entry]: j is the
#   membership, named as well on allow.
_role_grants contains [j, [51, i, _reason(entry, "allow")]] if {
	some [j, role] in _held
	_role_applies(role)
	some i, entry in role.tools.allow.entries
	entry.name == _tool_name
}

_role_grants contains [j, [52, i, _reason(entry, "allow")]] if {
	some [j, role] in _held
	_role_applies(role)
	some i, entry in role.capabilities.entries
	entry.capability == _capability
}

# METADATA
# title: Role automation grants
# description: |
#   For an automation job: a role it holds, applying to the call's repository, lists automation
#   in its capabilities. [j, reason entry] as for role grants; the entry stands at stage 52, as
#   a capabilities grant does.
_automation_role_grants contains [j, [52, i, _reason(entry, "allow")]] if {
	_automation_job
	some [j, role] in _held
	_role_applies(role)
	some i, entry in role.capabilities.entries
	entry.capability == "automation"
}
