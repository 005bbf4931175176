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
#   data.aegis.policy does not carry the mark of policy_compiler's data format 6. The full shape
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
#   lower-cased owner/name; path normalized and relative, only with a repo), and optionally
#   size (a non-negative integer or null) and branch (a string or null);
#   context.write_mode a boolean; and context.automation, for an automation job's call,
#   absent, null, or an object whose job is a non-empty string.
_decision_input_valid if {
	input.version == 1
	is_object(input.principal)
	_non_empty_string(input.tool.name)
	is_string(input.tool.capability)
	_valid_repo(input.resource.repo)
	_valid_path(input.resource.path, input.resource.repo)
	_null_or_string(input.resource.ref)
	_valid_size(object.get(input.resource, "size", null))
	_valid_branch(object.get(input.resource, "branch", null))
	is_boolean(input.context.write_mode)
	_valid_automation(object.get(input.context, "automation", null))
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

_null_or_string(null)

_null_or_string(value) if is_string(value)

_valid_size(null)

_valid_size(size) if {
	is_number(size)
	size >= 0
	floor(size) == size
}

_valid_branch(null)

_valid_branch(branch) if {
	is_string(branch)
	regex.match(`^[^\x00-\x1f\x7f]+$`, branch)
}

_valid_automation(null)

_valid_automation(automation) if {
	is_object(automation)
	_non_empty_string(automation.job)
}

_valid_repo(null)

_valid_repo(repo) if {
	is_string(repo)
	regex.match(`^[a-z0-9_.-]{1,40}/[a-z0-9_.-]{1,100}$`, repo)
	every part in split(repo, "/") {
		not part in {".", ".."}
	}
}

_valid_path(null, _)

_valid_path(path, repo) if {
	is_string(repo)
	is_string(path)
	regex.match(`^[^/\x00-\x1f\x7f\\]+(?:/[^/\x00-\x1f\x7f\\]+)*$`, path)
	every segment in split(path, "/") {
		not segment in {".", ".."}
	}
}

_policy_present if _policy != null

_policy_usable if _policy.format == 6

# METADATA
# title: Valid policy data
# description: |
#   data.aegis.policy has the shape policy_compiler writes (data format 6), down to each entry,
#   and every regex compiles: a regex that did not would make its deny rule silently fail.
#   The gateway asks this once per bundle revision and refuses a bundle for which it is not true.
# entrypoint: true
default policy_valid := false

policy_valid if {
	_policy.format == 6
	_valid_settings
	_valid_repository_rules
	_valid_roles_and_principals
}

# The defaults, the limits, the secrets settings and the policy-wide tool, write and audit lists.
_valid_settings if {
	every capability in ["read", "write", "automation"] {
		_valid_default(_policy.defaults[capability])
	}
	_valid_limits(_policy.limits)
	_valid_secrets(_policy.secrets)
	_valid_list(_policy.tools.allow, "name")
	_valid_list(_policy.tools.deny, "name")
	_valid_repo_list(_policy.write.repositories)
	_valid_glob_list(_policy.write.branches)
	_valid_list(_policy.write.require_approval, "name")
	_valid_list(_policy.audit.hash_arguments, "name")
}

# The rules of each repository, of each owner's glob keys and of the glob keys of any owner.
_valid_repository_rules if {
	is_object(_policy.repositories)
	every rules in _policy.repositories {
		_valid_rules(rules)
	}
	is_object(_policy.repository_globs.by_owner)
	every globs in _policy.repository_globs.by_owner {
		_valid_glob_rules(globs)
	}
	_valid_glob_rules(_policy.repository_globs.any_owner)
}

# Every role and every principal, each keyed by its name.
_valid_roles_and_principals if {
	is_object(_policy.roles)
	every role in _policy.roles {
		_valid_role(role)
	}
	is_object(_policy.principals)
	every principal in _policy.principals {
		_valid_principal(principal)
	}
}

_valid_default(default_rule) if {
	default_rule.effect in {"allow", "deny"}
	_valid_rule(default_rule)
}

_valid_rule(rule) if {
	is_string(rule.rule)
	is_string(rule.source)
}

_valid_limits(limits) if limits.max_file_bytes == null

_valid_limits(limits) if {
	_valid_rule(limits.max_file_bytes)
	is_number(limits.max_file_bytes.bytes)
}

_valid_rules(rules) if {
	_valid_rule(rules)
	_valid_list(rules.tools.allow, "name")
	_valid_list(rules.tools.deny, "name")
	_valid_path_rules(rules.paths)
	is_object(rules.paths.roles)
	every name, block in rules.paths.roles {
		is_object(_policy.roles[name])
		_valid_path_rules(block)
	}
	is_object(rules.paths.principals)
	every name, block in rules.paths.principals {
		is_object(_policy.principals[name])
		_valid_path_rules(block)
	}
	_valid_limits(rules.limits)
	_valid_repo_output(rules.secrets.output)
	_valid_list(rules.require_approval, "name")
}

_valid_path_rules(paths) if {
	_valid_glob_list(paths.allow)
	_valid_glob_list(paths.deny)
}

# The secrets settings, and a non-empty list of secret-store globs (an empty one would deny nothing).
_valid_secrets(secrets) if {
	_valid_output(secrets.output)
	_valid_default(secrets.store_paths)
	count(secrets.store_paths.entries) > 0
	every entry in secrets.store_paths.entries {
		_valid_regex(entry)
		is_array(entry.unless)
		every exception in entry.unless {
			_valid_regex(exception)
		}
	}
	_valid_glob_index(secrets.store_paths)
}

_valid_output(output) if {
	_valid_rule(output)
	output.mode in {"mask", "block"}
}

_valid_repo_output(null)

_valid_repo_output(output) if _valid_output(output)

_valid_regex(entry) if {
	is_string(entry.regex)
	regex.is_valid(entry.regex)
}

_valid_glob_rules(globs) if {
	is_array(globs)
	every rules in globs {
		_valid_rules(rules)
		_valid_regex(rules)
	}
}

_valid_role(role) if {
	_valid_rule(role)
	_valid_list(role.tools.allow, "name")
	_valid_list(role.tools.deny, "name")
	_valid_list(role.capabilities, "capability")
	_valid_repo_list(role.repositories)
}

_valid_principal(principal) if {
	_valid_rule(principal)
	_valid_list(principal.roles, "role")
	every member in principal.roles.entries {
		is_object(_policy.roles[member.role])
	}
	_valid_time(principal.not_before)
	_valid_time(principal.expires)
	_valid_repo_list(principal.repositories)
}

_valid_time(null)

_valid_time(bound) if {
	_valid_rule(bound)
	is_number(bound.ns)
}

_valid_list(list, field) if {
	_valid_rule(list)
	is_array(list.entries)
	every entry in list.entries {
		_valid_rule(entry)
		is_string(entry[field])
	}
}

_valid_glob_list(list) if {
	_valid_list(list, "glob")
	every entry in list.entries {
		_valid_regex(entry)
	}
	_valid_glob_index(list)
}

# A glob list's index reaches every entry: each is in a chunk of any_segment, or of by_segment under
# its own first segment, which must have no wildcard (only then can a path of another first segment
# never match it). A list without entries needs no index.
_valid_glob_index(list) if count(list.entries) == 0

_valid_glob_index(list) if {
	is_object(list.index.by_segment)
	every chunks in list.index.by_segment {
		_valid_glob_chunks(list, chunks)
	}
	_valid_glob_chunks(list, list.index.any_segment)
	reached := {i |
		some segment, chunks in list.index.by_segment
		not regex.match(`[*?]`, segment)
		some chunk in chunks
		some i in chunk.entries
		split(list.entries[i].glob, "/")[0] == segment
	} | {i |
		some chunk in list.index.any_segment
		some i in chunk.entries
	}
	count(reached) == count(list.entries)
}

_valid_glob_chunks(list, chunks) if {
	is_array(chunks)
	every chunk in chunks {
		regex.is_valid(chunk.regex)
		is_array(chunk.entries)
		every i in chunk.entries {
			is_string(list.entries[i].glob)
		}
	}
}

# A repository list: its index points at entries, exact names at exact ones, globs at ones with a regex.
_valid_repo_list(list) if {
	_valid_list(list, "repo")
	is_object(list.index.exact)
	every name, i in list.index.exact {
		list.entries[i].repo == name
	}
	is_object(list.index.by_owner)
	every indexes in list.index.by_owner {
		_valid_glob_indexes(list, indexes)
	}
	_valid_glob_indexes(list, list.index.any_owner)
}

_valid_glob_indexes(list, indexes) if {
	is_array(indexes)
	every i in indexes {
		regex.is_valid(list.entries[i].regex)
	}
}
