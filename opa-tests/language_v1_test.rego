package aegis.authz_test

import data.aegis.authz

# Policy language v1: repository globs, size limits, branches, automation, principals and roles.
# One test per precedence step (docs/policy.md, "Precedence"), named after its stage.

# repositories:
#   acme/*:   tools.deny [list_commits] (line 30), limits.max_file_bytes 500 (line 31)
#   */docs:   paths.allow [**/*.md] (line 33)
# limits.max_file_bytes 1000 (line 4); write.branches [aegis/**] (line 9)
# roles:
#   triager:  tools.allow [create_issue] (41), tools.deny [get_issue] (42), repositories [acme/*] (43)
#   reader:   capabilities [read] (45)
# principals:
#   bot-1:   roles [triager, reader] (51), not_before 2026-01-01 (52), expires 2027-01-01 (53),
#             repositories [acme/app, beta/*] (54)
_v1 := policy_with({
	"defaults": object.union(read_default("deny"), write_default("deny")),
	"limits": {"max_file_bytes": limit("limits.max_file_bytes", 4, 1000)},
	"write": {
		"repositories": repo_list("write.repositories", 8, ["acme/app", ["beta/*", `(?s)^beta/[^/]*$`, "beta/x"]]),
		"branches": rule_list("write.branches", 9, "glob", [["aegis/**", `(?s)^aegis(?:/.*)?$`]]),
	},
	"repository_globs": {
		"by_owner": {"acme": [glob_rules("acme/*", `(?s)^acme/[^/]*$`, {
			"tools": {
				"allow": absent("repo.acme/*.tools.allow"),
				"deny": rule_list("repo.acme/*.tools.deny", 30, "name", ["list_commits"]),
			},
			"limits": {"max_file_bytes": limit("repo.acme/*.limits.max_file_bytes", 31, 500)},
		})]},
		"any_owner": [glob_rules("*/docs", `(?s)^[^/]*/docs$`, {"paths": {
			"allow": rule_list("repo.*/docs.paths.allow", 33, "glob", [["**/*.md", `(?s)^(?:.*/)?.*\.md$`]]),
			"deny": absent("repo.*/docs.paths.deny"),
		}})],
	},
	"roles": {
		"triager": {
			"rule": "roles.triager",
			"source": "p.yaml:40",
			"tools": {
				"allow": rule_list("roles.triager.tools.allow", 41, "name", ["create_issue"]),
				"deny": rule_list("roles.triager.tools.deny", 42, "name", ["get_issue"]),
			},
			"capabilities": absent("roles.triager.capabilities"),
			"repositories": repo_list("roles.triager.repositories", 43, [["acme/*", `(?s)^acme/[^/]*$`, "acme/x"]]),
		},
		"reader": {
			"rule": "roles.reader",
			"source": "p.yaml:44",
			"tools": {"allow": absent("roles.reader.tools.allow"), "deny": absent("roles.reader.tools.deny")},
			"capabilities": rule_list("roles.reader.capabilities", 45, "capability", ["read"]),
			"repositories": absent_repo_list("roles.reader.repositories"),
		},
	},
	"principals": {"bot-1": {
		"rule": "principals.bot-1",
		"source": "p.yaml:50",
		"roles": rule_list("principals.bot-1.roles", 51, "role", ["triager", "reader"]),
		"not_before": {
			"rule": "principals.bot-1.not_before",
			"source": "p.yaml:52",
			"time": "2026-01-01T00:00:00Z",
			"ns": 1767225600000000000,
		},
		"expires": {
			"rule": "principals.bot-1.expires",
			"source": "p.yaml:53",
			"time": "2027-01-01T00:00:00Z",
			"ns": 1798761600000000000,
		},
		"repositories": repo_list("principals.bot-1.repositories", 54, [
			"acme/app",
			["beta/*", `(?s)^beta/[^/]*$`, "beta/x"],
		]),
	}},
})

# A call by `who` (an API key name) at time `at`, with resource fields `resource` added.
as_call(who, tool, capability, resource, at) := object.union(
	call(tool, capability, object.get(resource, "repo", null), object.get(resource, "path", null), true),
	{"principal": {"id": who}, "resource": resource, "context": {"time": at}},
)

_in_window := "2026-06-01T00:00:00Z"

_bot_read(tool, resource) := as_call("bot-1", tool, "read", resource, _in_window)

_window_and_scope := [
	allow("principals.bot-1.not_before", "p.yaml:52"),
	allow("principals.bot-1.expires", "p.yaml:53"),
]

# --- repository globs ----------------------------------------------------------------------

test_glob_with_literal_owner_applies if {
	d := authz.decision with input as read_call("list_commits", "acme/web", null) with data.aegis.policy as _v1
	d == denied([deny("repo.acme/*.tools.deny[0]", "p.yaml:30"), deny("defaults.read", "p.yaml:2")])
}

test_glob_with_wildcard_owner_applies if {
	d := authz.decision with input as read_call("get_file_contents", "zeta/docs", "src/a.py") with data.aegis.policy as _v1
	d == denied([deny("repo.*/docs.paths.allow", "p.yaml:33"), deny("defaults.read", "p.yaml:2")])
}

test_glob_does_not_apply_to_other_owners if {
	d := authz.decision with input as read_call("list_commits", "beta/web", null) with data.aegis.policy as _v1
	d == denied([deny("defaults.read", "p.yaml:2")])
}

test_exact_key_and_every_matching_glob_apply if {
	p := object.union(_v1, {"repositories": {"acme/docs": repo_with_tools("acme/docs", "deny", 12, ["get_issue"])}})
	d := authz.decision with input as read_call("get_issue", "acme/docs", "a.py") with data.aegis.policy as p
	d == denied([
		deny("repo.acme/docs.tools.deny[0]", "p.yaml:12"),
		deny("repo.*/docs.paths.allow", "p.yaml:33"),
		deny("defaults.read", "p.yaml:2"),
	])
}

# --- size limits ------------------------------------------------------------------------------

# A read allowed by defaults.read, with the size limit `bytes` as an obligation.
_read_allowed_under(bytes) := {
	"allow": true,
	"reasons": [allow("defaults.read", "p.yaml:2")],
	"obligations": {"max_file_bytes": bytes, "secrets": "mask"},
	"revision": null,
	"audit": {"hash_arguments": []},
}

test_size_limit_cases if {
	p := policy_with({
		"limits": {"max_file_bytes": limit("limits.max_file_bytes", 4, 1000)},
		"repository_globs": _v1.repository_globs,
	})
	cases := {
		"smallest applicable limit is the obligation": {
			"resource": {"repo": "acme/web", "path": "a.py", "ref": null},
			"want": _read_allowed_under(500),
		},
		"global limit alone": {
			"resource": {"repo": "beta/web", "path": "a.py", "ref": null},
			"want": _read_allowed_under(1000),
		},
		"no path: no limit": {
			"resource": {"repo": "acme/web", "path": null, "ref": null},
			"want": allowed([allow("defaults.read", "p.yaml:2")]),
		},
		"known size over every limit: each named": {
			"resource": {"repo": "acme/web", "path": "a.py", "ref": null, "size": 1001},
			"want": denied([deny("limits.max_file_bytes", "p.yaml:4"), deny("repo.acme/*.limits.max_file_bytes", "p.yaml:31")]),
		},
		"known size over the smallest limit": {
			"resource": {"repo": "acme/web", "path": "a.py", "ref": null, "size": 501},
			"want": denied([deny("repo.acme/*.limits.max_file_bytes", "p.yaml:31")]),
		},
		"known size at the limit": {
			"resource": {"repo": "acme/web", "path": "a.py", "ref": null, "size": 500},
			"want": _read_allowed_under(500),
		},
	}
	failing := {note |
		some note, case in cases
		read := object.union(read_call("get_file_contents", null, null), {"resource": case.resource})
		got := authz.decision with input as read with data.aegis.policy as p
		got != case.want
	}
	print("failing:", failing)
	failing == set()
}

# --- write gate: branches, glob whitelist, automation ----------------------------------------

_writer := policy_with({"defaults": write_default("allow"), "write": _v1.write})

test_write_to_branch_off_the_list_denied if {
	write := object.union(call("create_file", "write", "acme/app", "src/a.py", true), {"resource": {"branch": "main"}})
	d := authz.decision with input as write with data.aegis.policy as _writer
	d == denied([deny("write.branches", "p.yaml:9")])
}

test_write_to_allowed_branch_names_it if {
	write := object.union(call("create_file", "write", "beta/web", "a.py", true), {"resource": {"branch": "aegis/fix-1"}})
	d := authz.decision with input as write with data.aegis.policy as _writer
	d == allowed([
		allow("context.write_mode", "builtin"),
		allow("write.repositories[1]", "p.yaml:9"),
		allow("write.branches[0]", "p.yaml:9"),
		allow("defaults.write", "p.yaml:3"),
	])
}

test_write_without_branch_is_not_branch_checked if {
	d := authz.decision with input as call("create_issue", "write", "acme/app", null, true)
		with data.aegis.policy as _writer
	d.allow == true
}

test_automation_passes_the_write_gate_and_defaults_to_deny if {
	base := object.union(
		call("run_workflow", "automation", "acme/other", null, false),
		{"principal": {"scopes": ["tools:automation"]}},
	)
	d := authz.decision with input as base with data.aegis.policy as _writer
	d == denied([
		deny("context.write_mode", "builtin"),
		deny("write.repositories", "p.yaml:8"),
		deny("defaults.automation", "builtin"),
	])
}

test_automation_needs_its_scope if {
	d := authz.decision with input as call("run_workflow", "automation", "acme/app", null, true)
		with data.aegis.policy as _writer
	d == denied([deny("principal.scope", "builtin"), deny("defaults.automation", "builtin")])
}

# --- principals: time window and repository scope --------------------------------------------

test_principal_window_cases if {
	cases := {
		"before not_before": {"time": "2025-12-31T23:59:59Z", "want": [deny("principals.bot-1.not_before", "p.yaml:52")]},
		"at expires": {"time": "2027-01-01T00:00:00Z", "want": [deny("principals.bot-1.expires", "p.yaml:53")]},
		"unreadable time": {"time": "soon", "want": [
			deny("principals.bot-1.not_before", "p.yaml:52"),
			deny("principals.bot-1.expires", "p.yaml:53"),
		]},
	}
	failing := {note |
		some note, case in cases
		read := as_call("bot-1", "get_file_contents", "read", {"repo": "acme/app", "path": null, "ref": null}, case.time)
		got := authz.decision with input as read with data.aegis.policy as _v1
		got != denied(case.want)
	}
	print("failing:", failing)
	failing == set()
}

test_principal_inside_window_gets_role_grant_with_every_reason if {
	d := authz.decision with input as _bot_read("get_file_contents", {"repo": "acme/app", "path": null, "ref": null})
		with data.aegis.policy as _v1
	d == allowed(array.concat(_window_and_scope, [
		allow("principals.bot-1.repositories[0]", "p.yaml:54"),
		allow("principals.bot-1.roles[1]", "p.yaml:52"),
		allow("roles.reader.capabilities[0]", "p.yaml:45"),
	]))
}

test_principal_repository_scope_denies_other_repositories if {
	d := authz.decision with input as _bot_read("get_file_contents", {"repo": "gamma/app", "path": null, "ref": null})
		with data.aegis.policy as _v1
	d == denied([deny("principals.bot-1.repositories", "p.yaml:54")])
}

test_principal_repository_scope_matches_globs if {
	d := authz.decision with input as _bot_read("get_file_contents", {"repo": "beta/web", "path": null, "ref": null})
		with data.aegis.policy as _v1
	allow("principals.bot-1.repositories[1]", "p.yaml:55") in d.reasons
}

test_call_without_repository_is_not_scoped if {
	d := authz.decision with input as _bot_read("list_repositories", {"repo": null, "path": null, "ref": null})
		with data.aegis.policy as _v1
	d.allow == true
}

test_unlisted_principal_gets_the_global_rules_only if {
	read := as_call(
		"someone", "get_file_contents", "read",
		{"repo": "gamma/app", "path": null, "ref": null}, "1999-01-01T00:00:00Z",
	)
	d := authz.decision with input as read with data.aegis.policy as _v1
	d == denied([deny("defaults.read", "p.yaml:2")])
}

# --- roles ---------------------------------------------------------------------------------

test_role_deny_beats_role_grant if {
	d := authz.decision with input as _bot_read("get_issue", {"repo": "acme/app", "path": null, "ref": null})
		with data.aegis.policy as _v1
	d == denied([deny("roles.triager.tools.deny[0]", "p.yaml:42")])
}

test_role_tool_grant_applies_on_its_repositories if {
	p := object.union(_v1, {"defaults": write_default("deny")})
	write := as_call("bot-1", "create_issue", "write", {"repo": "acme/app", "path": null, "ref": null}, _in_window)
	d := authz.decision with input as write with data.aegis.policy as p
	d == allowed(array.concat(_window_and_scope, [
		allow("principals.bot-1.repositories[0]", "p.yaml:54"),
		allow("principals.bot-1.roles[0]", "p.yaml:51"),
		allow("context.write_mode", "builtin"),
		allow("write.repositories[0]", "p.yaml:8"),
		allow("roles.triager.tools.allow[0]", "p.yaml:41"),
	]))
}

test_role_tool_grant_does_not_apply_elsewhere if {
	write := as_call("bot-1", "create_issue", "write", {"repo": "beta/web", "path": null, "ref": null}, _in_window)
	d := authz.decision with input as write with data.aegis.policy as _v1
	d == denied([deny("defaults.write", "p.yaml:3")])
}

# --- revision ------------------------------------------------------------------------------

test_decision_reports_the_bundle_revision if {
	d := authz.decision with input as read_call("get_issue", "acme/app", null)
		with data.aegis.policy as policy
		with data.aegis.meta as {"revision": "abc"}
	d.revision == "abc"
	e := authz.decision with input as {"version": 2} with data.aegis.meta as {"revision": "abc"}
	e.revision == "abc"
}

# --- input: size and branch ----------------------------------------------------------------

test_size_and_branch_input_cases if {
	bad := {
		"negative size": {"size": -1},
		"fractional size": {"size": 1.5},
		"size as a string": {"size": "10"},
		"empty branch": {"branch": ""},
		"branch with a newline": {"branch": "main\n"},
		"branch not a string": {"branch": 1},
	}
	failing := {note |
		some note, resource in bad
		got := authz.decision with input as object.union(read_call("get_issue", "acme/app", null), {"resource": resource})
			with data.aegis.policy as policy
		got != denied([deny("input.invalid", "builtin")])
	}
	print("failing:", failing)
	failing == set()
	read := object.union(read_call("get_issue", "acme/app", null), {"resource": {"size": 0, "branch": null}})
	ok := authz.decision with input as read with data.aegis.policy as policy
	ok.allow == true
}

# --- visible tools -------------------------------------------------------------------------

_listing_as(who, at, write_mode, scopes) := {
	"version": 1,
	"principal": {"id": who, "kind": "api_key", "scopes": scopes, "roles": []},
	"tools": [
		{"name": "get_file_contents", "capability": "read"},
		{"name": "get_issue", "capability": "read"},
		{"name": "list_commits", "capability": "read"},
		{"name": "create_issue", "capability": "write"},
		{"name": "run_workflow", "capability": "automation"},
	],
	"context": {"write_mode": write_mode, "time": at},
}

test_visible_tools_cases if {
	all_scopes := ["tools:read", "tools:write", "tools:automation"]
	with_automation := object.union(_v1, {"defaults": {"automation": {
		"rule": "defaults.automation",
		"effect": "allow",
		"source": "p.yaml:3",
	}}})
	cases := {
		"role grants: reads through the role, role deny hides, role tool grant shows a write": {
			"input": _listing_as("bot-1", _in_window, true, all_scopes),
			"want": ["create_issue", "get_file_contents", "list_commits"],
		},
		"outside the window nothing is shown": {
			"input": _listing_as("bot-1", "2030-01-01T00:00:00Z", true, all_scopes),
			"want": [],
		},
		"an unlisted key sees what the global and repository rules allow": {
			"input": _listing_as("someone", _in_window, true, all_scopes),
			"want": ["get_file_contents"],
		},
		"automation shown through a glob whitelist entry with its default": {
			"input": _listing_as("someone", _in_window, true, all_scopes),
			"policy": with_automation,
			"want": ["get_file_contents", "run_workflow"],
		},
		"a glob repository key's allow shows a read tool": {
			"input": _listing_as("someone", _in_window, false, all_scopes),
			"policy": object.union(_v1, {"repository_globs": {"any_owner": [glob_rules("*/docs", `(?s)^[^/]*/docs$`, {"tools": {
				"allow": rule_list("repo.*/docs.tools.allow", 33, "name", ["get_issue"]),
				"deny": absent("repo.*/docs.tools.deny"),
			}})]}}),
			"want": ["get_file_contents", "get_issue"],
		},
	}
	failing := {note |
		some note, case in cases
		got := authz.visible_tools with input as case.input with data.aegis.policy as object.get(case, "policy", _v1)
		got != case.want
	}
	print("failing:", failing)
	failing == set()
}

# --- policy_valid on the v1 shapes ---------------------------------------------------------

test_v1_fixture_policy_is_valid if {
	authz.policy_valid with data.aegis.policy as _v1
}

test_malformed_v1_policy_data_is_not_valid if {
	cases := {
		"limit without bytes": replaced(_v1, "limits", {"max_file_bytes": {"rule": "l", "source": "s"}}),
		"glob rules with a broken regex": object.union(
			_v1,
			{"repository_globs": {"any_owner": [glob_rules("*/x", "(?s)^(x$", {})]}},
		),
		"glob rules not a list": object.union(_v1, {"repository_globs": {"by_owner": {"acme": {}}}}),
		"index pointing at another entry": object.union(
			_v1,
			{"write": {"repositories": {"index": {"exact": {"acme/app": 1}}}}},
		),
		"index of a glob without a regex": object.union(_v1, {"write": {"repositories": {"index": {"any_owner": [0]}}}}),
		"principal with an undefined role": object.union(
			_v1,
			{"principals": {"bot-1": {"roles": rule_list("r", 1, "role", ["nobody"])}}},
		),
		"time without ns": replaced(_v1, "principals", {
			"bot-1": replaced(_v1.principals["bot-1"], "expires", {"rule": "e", "source": "s"}),
		}),
		"role capabilities not a list": object.union(
			_v1,
			{"roles": {"reader": {"capabilities": {"rule": "c", "source": "s", "entries": "read"}}}},
		),
		"roles not an object": replaced(_v1, "roles", []),
		"principals not an object": replaced(_v1, "principals", []),
		"no automation default": replaced(_v1, "defaults", {"read": _v1.defaults.read, "write": _v1.defaults.write}),
	}
	failing := {note |
		some note, case in cases
		authz.policy_valid with data.aegis.policy as case
	}
	print("failing:", failing)
	failing == set()
}
