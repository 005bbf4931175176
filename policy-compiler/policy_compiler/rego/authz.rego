# METADATA
# title: Aegis authorization
# description: |
#   Decides every tool call of the Aegis gateway from the compiled YAML policy at
#   data.aegis.policy (built by policy_compiler, docs/policy.md). Deny by default: a call
#   needs an explicit allow, deny beats allow at every level, and a write also needs
#   WRITE_MODE on, its repository on the write whitelist and an allowed branch. A call of an
#   automation job (principal automation:<job>) also needs an automation grant. Every
#   decision names the rules that made it and where they stand in the YAML.
# scope: package
package aegis.authz

# METADATA
# title: Decision
# description: |
#   {"allow": bool, "reasons": [{"rule", "effect", "source"}], "obligations": {...},
#   "revision": R, "audit": {"hash_arguments": [...]}} for one tool call (the version 1 input
#   of docs/contracts.md). On allow, reasons are the allow rules used and obligations carry
#   what the gateway must still enforce (secrets, max_file_bytes, require_approval); on deny,
#   reasons are every rule that denies. Reasons are ordered by evaluation stage, then by
#   position in their list. `revision` is the revision of the bundle that decided (null
#   without one). `audit` names the arguments the audit log records only hashed, allow or
#   deny; it is absent when the policy data is missing or unusable (the gateway then hashes
#   every argument).
# entrypoint: true
decision := object.union(_verdict, _audit)

_verdict := {"allow": false, "reasons": _ordered(_precondition_failures), "obligations": {}, "revision": _revision} if {
	count(_precondition_failures) > 0
} else := {
	"allow": true,
	"reasons": _ordered(_grants | _supports),
	"obligations": _obligations,
	"revision": _revision,
} if {
	_allowed
} else := {"allow": false, "reasons": _ordered(_denials), "obligations": {}, "revision": _revision}

# METADATA
# title: Audit settings
# description: |
#   The arguments audit.hash_arguments names, in their order: the gateway's audit log records
#   them as their SHA-256 only, and OPA's decision log leaves them out (system.log.mask).
default _audit := {}

_audit := {"audit": {"hash_arguments": [entry.name | some entry in _policy.audit.hash_arguments.entries]}} if {
	_policy_usable
}

# METADATA
# title: Visible tools
# description: |
#   The sorted names of the tools of input.tools the caller could be allowed to call on
#   some repository; tools/list shows only these. Empty for a malformed input or without
#   a valid policy.
# entrypoint: true
default visible_tools := []

visible_tools := sort(_visible_names) if {
	_visible_input_valid
	_policy_usable
}

# METADATA
# title: Allowed
# description: No rule denies the call, and at least one rule allows it explicitly.
_allowed if {
	_known_capability
	count(_denials) == 0
	count(_grants) > 0
}

# The revision the compiler wrote at data.aegis.meta (the bundle's .manifest revision).
default _revision := null

_revision := data.aegis.meta.revision

# METADATA
# title: Obligations
# description: |
#   What the gateway must enforce after an allow: secrets, "mask" or "block" for secrets found
#   in the tool's output (always present); max_file_bytes, the smallest size limit that
#   applies to the call, checked once the file's size is known; and require_approval, the
#   entries that hold a gated call until a human approves it.
_obligations := object.union_n([{"secrets": _secrets_output}, _size_obligation, _approval_obligation])

default _size_obligation := {}

_size_obligation := {"max_file_bytes": min({limit.bytes | some limit in _limits})} if {
	count(_limits) > 0
}

# METADATA
# title: Approval required
# description: |
#   A gated call (write or automation) whose tool is on write.require_approval or on the
#   require_approval of a repository key matching its repository waits for a human approval:
#   the obligation lists every such entry ({"rule", "source"}), the global ones first, then
#   by repository key, each list in its order. Absent when none applies, and never on a read.
default _approval_obligation := {}

_approval_obligation := {"require_approval": _ordered(_approvals)} if {
	_gated
	count(_approvals) > 0
}

# Reasons are kept as [stage, position, reason] so that sorting orders them deterministically.
_ordered(entries) := [entry[2] | some entry in sort(entries)]

_builtin(annotations, effect) := {"rule": annotations.custom.reason, "effect": effect, "source": "builtin"}

_reason(rule, effect) := {"rule": rule.rule, "effect": effect, "source": rule.source}
