package aegis.authz_test

import data.aegis.authz

# --- reads ------------------------------------------------------------------------------

test_read_on_unlisted_repo_allowed_by_default if {
	d := authz.decision with input as read_call("get_file_contents", "acme/other", "x.py")
		with data.aegis.policy as policy
	d == allowed([allow("defaults.read", "p.yaml:2")])
}

test_read_without_repository_allowed_by_default if {
	d := authz.decision with input as read_call("list_repositories", null, null)
		with data.aegis.policy as policy
	d == allowed([allow("defaults.read", "p.yaml:2")])
}

test_read_tool_denied_globally if {
	d := authz.decision with input as read_call("search_code", "acme/other", null)
		with data.aegis.policy as policy
	d == denied([deny("tools.deny[0]", "p.yaml:5")])
}

test_read_tool_denied_for_repository if {
	d := authz.decision with input as read_call("list_commits", "acme/app", null)
		with data.aegis.policy as policy
	d == denied([deny("repo.acme/app.tools.deny[0]", "p.yaml:12")])
}

test_tool_denied_for_one_repository_allowed_on_another if {
	d := authz.decision with input as read_call("list_commits", "acme/other", null)
		with data.aegis.policy as policy
	d.allow == true
}

test_tool_off_repository_allowlist_denied if {
	d := authz.decision with input as read_call("list_issues", "acme/locked", null)
		with data.aegis.policy as policy
	d == denied([deny("repo.acme/locked.tools.allow", "p.yaml:22")])
}

test_tool_on_repository_allowlist_allowed_with_both_allows_named if {
	d := authz.decision with input as read_call("get_file_contents", "acme/locked", "a.py")
		with data.aegis.policy as policy
	d == allowed([
		allow("repo.acme/locked.tools.allow[0]", "p.yaml:22"),
		allow("defaults.read", "p.yaml:2"),
	])
}

test_read_denied_when_default_is_deny_and_nothing_allows if {
	d := authz.decision with input as read_call("get_issue", "acme/other", null)
		with data.aegis.policy as policy_with({"defaults": read_default("deny")})
	d == denied([deny("defaults.read", "p.yaml:2")])
}

test_repository_allowlist_is_an_explicit_allow_when_default_is_deny if {
	d := authz.decision with input as read_call("get_file_contents", "acme/locked", null)
		with data.aegis.policy as policy_with({"defaults": read_default("deny")})
	d == allowed([allow("repo.acme/locked.tools.allow[0]", "p.yaml:22")])
}

test_global_allowlist_cases if {
	global_allow := policy_with({
		"defaults": read_default("deny"),
		"tools": {"allow": rule_list("tools.allow", 4, "name", ["get_issue", "get_file_contents"])},
	})
	cases := {
		"listed tool is allowed by the entry": {
			"input": read_call("get_file_contents", "acme/other", null),
			"want": allowed([allow("tools.allow[1]", "p.yaml:5")]),
		},
		"unlisted tool is denied by the list": {
			"input": read_call("list_issues", "acme/other", null),
			"want": denied([deny("tools.allow", "p.yaml:4"), deny("defaults.read", "p.yaml:2")]),
		},
		"listed tool still needs the repository allowlist": {
			"input": read_call("get_issue", "acme/locked", null),
			"want": denied([deny("repo.acme/locked.tools.allow", "p.yaml:22")]),
		},
		"listed and denied tool is denied": {
			"input": read_call("get_file_contents", "acme/other", null),
			"want": denied([deny("tools.deny[0]", "p.yaml:5")]),
			"policy": object.union(global_allow, {"tools": {"deny": rule_list("tools.deny", 5, "name", ["get_file_contents"])}}),
		},
	}
	failing := {note |
		some note, case in cases
		got := authz.decision with input as case.input with data.aegis.policy as object.get(case, "policy", global_allow)
		got != case.want
	}
	print("failing:", failing)
	failing == set()
}

# --- paths ------------------------------------------------------------------------------

test_path_cases if {
	cases := {
		"file under an allowed directory": {
			"path": "src/app/main.py",
			"want": allowed([allow("repo.acme/app.paths.allow[0]", "p.yaml:14"), allow("defaults.read", "p.yaml:2")]),
		},
		"the allowed directory itself": {
			"path": "src",
			"want": allowed([allow("repo.acme/app.paths.allow[0]", "p.yaml:14"), allow("defaults.read", "p.yaml:2")]),
		},
		"exact file on the allowlist": {
			"path": "README.md",
			"want": allowed([allow("repo.acme/app.paths.allow[1]", "p.yaml:15"), allow("defaults.read", "p.yaml:2")]),
		},
		"deny beats allow": {
			"path": "src/secrets/prod/token.txt",
			"want": denied([deny("repo.acme/app.paths.deny[0]", "p.yaml:17")]),
		},
		"denied directory itself": {
			"path": "src/secrets",
			"want": denied([deny("repo.acme/app.paths.deny[0]", "p.yaml:17")]),
		},
		"path off the allowlist": {
			"path": "docs/index.md",
			"want": denied([deny("repo.acme/app.paths.allow", "p.yaml:14")]),
		},
		"prefix that is not a directory": {
			"path": "srcx/main.py",
			"want": denied([deny("repo.acme/app.paths.allow", "p.yaml:14")]),
		},
		"paths are case-sensitive": {
			"path": "readme.md",
			"want": denied([deny("repo.acme/app.paths.allow", "p.yaml:14")]),
		},
		"no path: path rules do not apply": {
			"path": null,
			"want": allowed([allow("defaults.read", "p.yaml:2")]),
		},
	}
	failing := {note |
		some note, case in cases
		got := authz.decision with input as read_call("get_file_contents", "acme/app", case.path)
			with data.aegis.policy as policy
		got != case.want
	}
	print("failing:", failing)
	failing == set()
}

test_path_rules_of_another_repository_do_not_apply if {
	d := authz.decision with input as read_call("get_file_contents", "acme/other", "src/secrets/token.txt")
		with data.aegis.policy as policy
	d.allow == true
}

# --- writes -----------------------------------------------------------------------------

test_write_without_write_mode_denied if {
	d := authz.decision with input as call("create_issue", "write", "acme/app", null, false)
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	d == denied([deny("context.write_mode", "builtin")])
}

test_write_to_unlisted_repo_denied if {
	d := authz.decision with input as call("create_issue", "write", "acme/other", null, true)
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	d == denied([deny("write.repositories", "p.yaml:8")])
}

test_write_without_repository_denied if {
	d := authz.decision with input as call("create_repository", "write", null, null, true)
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	d == denied([deny("write.repositories", "p.yaml:8")])
}

test_write_without_explicit_allow_denied if {
	d := authz.decision with input as call("create_issue", "write", "acme/app", null, true)
		with data.aegis.policy as policy
	d == denied([deny("defaults.write", "p.yaml:3")])
}

test_write_missing_every_gate_names_each if {
	d := authz.decision with input as call("create_issue", "write", "acme/other", null, false)
		with data.aegis.policy as policy
	d == denied([
		deny("context.write_mode", "builtin"),
		deny("write.repositories", "p.yaml:8"),
		deny("defaults.write", "p.yaml:3"),
	])
}

test_write_allowed_by_default_with_every_gate_named if {
	d := authz.decision with input as call("create_issue", "write", "acme/app", null, true)
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	d == allowed([
		allow("context.write_mode", "builtin"),
		allow("write.repositories[0]", "p.yaml:8"),
		allow("defaults.write", "p.yaml:3"),
	])
}

test_write_allowed_by_repository_tools_allow if {
	rules := repo_with_tools("acme/app", "allow", 11, ["create_issue"])
	d := authz.decision with input as call("create_issue", "write", "acme/app", null, true)
		with data.aegis.policy as policy_with({"repositories": {"acme/app": rules}})
	d == allowed([
		allow("repo.acme/app.tools.allow[0]", "p.yaml:11"),
		allow("context.write_mode", "builtin"),
		allow("write.repositories[0]", "p.yaml:8"),
	])
}

test_write_mode_must_be_exactly_true if {
	d := authz.decision with input as call("create_issue", "write", "acme/app", null, "true")
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	d == denied([deny("input.invalid", "builtin")])
}

test_write_to_denied_path_denied if {
	d := authz.decision with input as call("create_file", "write", "acme/app", "src/secrets/new.txt", true)
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	d == denied([deny("repo.acme/app.paths.deny[0]", "p.yaml:17")])
}

# --- everything together ----------------------------------------------------------------

test_every_denying_rule_reported_in_stage_order if {
	p := policy_with({"tools": {
		"allow": rule_list("tools.allow", 4, "name", ["get_file_contents"]),
		"deny": rule_list("tools.deny", 5, "name", ["list_commits", "search_code", "list_commits"]),
	}})
	d := authz.decision with input as read_call("list_commits", "acme/app", "src/secrets/a")
		with data.aegis.policy as p
	d == denied([
		deny("tools.deny[0]", "p.yaml:5"),
		deny("tools.deny[2]", "p.yaml:7"),
		deny("tools.allow", "p.yaml:4"),
		deny("repo.acme/app.tools.deny[0]", "p.yaml:12"),
		deny("repo.acme/app.paths.deny[0]", "p.yaml:17"),
	])
}

test_unknown_capability_denied if {
	d := authz.decision with input as call("get_file_contents", "admin", "acme/other", null, true)
		with data.aegis.policy as policy
	d == denied([deny("capability.unknown", "builtin")])
}

test_unknown_capability_denied_with_the_other_denials if {
	d := authz.decision with input as call("search_code", "execute", "acme/other", null, true)
		with data.aegis.policy as policy
	d == denied([deny("capability.unknown", "builtin"), deny("tools.deny[0]", "p.yaml:5")])
}

# --- key scopes ---------------------------------------------------------------------------

test_scope_cases if {
	every _, case in {
		"read tool without tools:read denied": {"scopes": ["tools:write"], "capability": "read"},
		"write tool without tools:write denied": {"scopes": ["tools:read"], "capability": "write"},
		"no scopes at all denied": {"scopes": [], "capability": "read"},
		"admin scope alone grants no tool": {"scopes": ["admin"], "capability": "read"},
	} {
		base := call("create_issue", case.capability, "acme/app", null, true)
		d := authz.decision with input as replaced(base, "principal", object.union(base.principal, {"scopes": case.scopes}))
			with data.aegis.policy as policy_with({"defaults": write_default("allow")})
		d.allow == false
		{"rule": "principal.scope", "effect": "deny", "source": "builtin"} in d.reasons
	}
}

# --- audit settings ---------------------------------------------------------------------------

test_every_decision_names_the_arguments_to_hash_in_their_order if {
	hashed := rule_list("audit.hash_arguments", 4, "name", ["query", "path_prefix"])
	p := policy_with({"audit": {"hash_arguments": hashed}})
	allowed_call := authz.decision with input as read_call("get_file_contents", "acme/app", "src/a.py")
		with data.aegis.policy as p
	denied_call := authz.decision with input as read_call("search_code", "acme/app", null)
		with data.aegis.policy as p
	allowed_call.allow
	not denied_call.allow
	allowed_call.audit == {"hash_arguments": ["query", "path_prefix"]}
	denied_call.audit == {"hash_arguments": ["query", "path_prefix"]}
}
