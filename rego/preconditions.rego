package aegis.authz

# Checks that come before any policy rule: a well-formed input and a usable policy.
# Either failing denies the call with that reason alone.

# METADATA
# title: Malformed input
# description: The input does not follow the version 1 contract of docs/contracts.md.
# custom:
#   reason: input.invalid
_precondition_failures contains [0, 0, _builtin(rego.metadata.rule(), "deny")] if {
	not _decision_input_valid
}

# METADATA
# title: No policy
# description: No compiled policy is loaded (data.aegis.policy is missing), so nothing is allowed.
# custom:
#   reason: policy.missing
_precondition_failures contains [1, 0, _builtin(rego.metadata.rule(), "deny")] if {
	not _policy_present
}

# METADATA
# title: Unusable policy
# description: |
#   data.aegis.policy does not carry the mark of policy_compiler's data format 1. The full shape
#   is checked once per bundle by policy_valid (the gateway refuses a bundle for which it is not
#   true), not on every query: that check grows with the policy.
# custom:
#   reason: policy.invalid
_precondition_failures contains [2, 0, _builtin(rego.metadata.rule(), "deny")] if {
	_policy_present
	not _policy_usable
}

# METADATA
# title: Valid decision input
# description: |
#   version 1; principal an object; tool.name a non-empty string and tool.capability a
#   string; resource with repo, path and ref present (each a string or null; repo a
#   lower-cased owner/name; path normalized and relative, only with a repo); and
#   context.write_mode a boolean.
_decision_input_valid if {
	input.version == 1
	is_object(input.principal)
	_non_empty_string(input.tool.name)
	is_string(input.tool.capability)
	_valid_repo(input.resource.repo)
	_valid_path(input.resource.path, input.resource.repo)
	_null_or_string(input.resource.ref)
	is_boolean(input.context.write_mode)
}

# METADATA
# title: Valid visible_tools input
# description: version 1; principal an object; tools a list of {name, capability} strings; context.write_mode a boolean.
_visible_input_valid if {
	input.version == 1
	is_object(input.principal)
	is_array(input.tools)
	every tool in input.tools {
		_non_empty_string(tool.name)
		is_string(tool.capability)
	}
	is_boolean(input.context.write_mode)
}

_non_empty_string(value) if {
	is_string(value)
	value != ""
}

_null_or_string(value) if value == null

_null_or_string(value) if is_string(value)

_valid_repo(repo) if repo == null

_valid_repo(repo) if {
	is_string(repo)
	regex.match(`^[a-z0-9_.-]{1,40}/[a-z0-9_.-]{1,100}$`, repo)
	every part in split(repo, "/") {
		not part in {".", ".."}
	}
}

_valid_path(path, _) if path == null

_valid_path(path, repo) if {
	is_string(repo)
	is_string(path)
	regex.match(`^[^/\x00-\x1f\x7f\\]+(?:/[^/\x00-\x1f\x7f\\]+)*$`, path)
	every segment in split(path, "/") {
		not segment in {".", ".."}
	}
}

_policy_present if data.aegis.policy != null

_policy_usable if _policy.format == 1

# METADATA
# title: Valid policy data
# description: |
#   data.aegis.policy has the shape policy_compiler writes (data format 1), down to each entry,
#   and every path regex compiles: a regex that did not would make its deny rule silently fail.
#   The gateway asks this once per bundle revision and refuses a bundle for which it is not true.
# entrypoint: true
default policy_valid := false

policy_valid if {
	_policy.format == 1
	_valid_default(_policy.defaults.read)
	_valid_default(_policy.defaults.write)
	_valid_list(_policy.tools.allow, "name")
	_valid_list(_policy.tools.deny, "name")
	_valid_list(_policy.write.repositories, "repo")
	is_object(_policy.repositories)
	every rules in _policy.repositories {
		_valid_list(rules.tools.allow, "name")
		_valid_list(rules.tools.deny, "name")
		_valid_glob_list(rules.paths.allow)
		_valid_glob_list(rules.paths.deny)
	}
}

_valid_default(default_rule) if {
	default_rule.effect in {"allow", "deny"}
	is_string(default_rule.rule)
	is_string(default_rule.source)
}

_valid_list(list, field) if {
	is_string(list.rule)
	is_string(list.source)
	is_array(list.entries)
	every entry in list.entries {
		is_string(entry.rule)
		is_string(entry.source)
		is_string(entry[field])
	}
}

_valid_glob_list(list) if {
	_valid_list(list, "glob")
	every entry in list.entries {
		is_string(entry.regex)
		regex.is_valid(entry.regex)
	}
}
