package aegis.authz_test

import data.aegis.authz

_tools := [
	{"name": "get_file_contents", "capability": "read"},
	{"name": "list_commits", "capability": "read"},
	{"name": "search_code", "capability": "read"},
	{"name": "create_issue", "capability": "write"},
	{"name": "admin_thing", "capability": "admin"},
]

listing(tools, write_mode) := {
	"version": 1,
	"principal": {"id": "ci-bot", "kind": "api_key", "scopes": ["tools:read", "tools:write"], "roles": []},
	"tools": tools,
	"context": {"write_mode": write_mode},
}

test_read_tools_visible_by_default_but_not_globally_denied_ones if {
	v := authz.visible_tools with input as listing(_tools, false) with data.aegis.policy as policy
	v == ["get_file_contents", "list_commits"]
}

test_write_tool_invisible_without_write_mode if {
	v := authz.visible_tools with input as listing(_tools, false)
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	not "create_issue" in v
}

test_write_tool_visible_with_write_mode_whitelist_and_default_allow if {
	v := authz.visible_tools with input as listing(_tools, true)
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	v == ["create_issue", "get_file_contents", "list_commits"]
}

test_write_tool_invisible_when_nothing_allows_it if {
	v := authz.visible_tools with input as listing(_tools, true) with data.aegis.policy as policy
	v == ["get_file_contents", "list_commits"]
}

test_write_tool_visible_when_a_whitelisted_repository_allows_it if {
	rules := repo_with_tools("acme/app", "allow", 11, ["create_issue"])
	v := authz.visible_tools with input as listing(_tools, true)
		with data.aegis.policy as policy_with({"repositories": {"acme/app": rules}})
	"create_issue" in v
}

test_write_tool_invisible_when_only_an_unlisted_repository_allows_it if {
	rules := repo_with_tools("acme/other", "allow", 11, ["create_issue"])
	v := authz.visible_tools with input as listing(_tools, true)
		with data.aegis.policy as policy_with({"repositories": {"acme/other": rules}})
	not "create_issue" in v
}

test_write_tool_invisible_when_its_whitelisted_repository_denies_it if {
	rules := repo_with_tools("acme/app", "deny", 11, ["create_issue"])
	v := authz.visible_tools with input as listing(_tools, true)
		with data.aegis.policy as policy_with({"defaults": write_default("allow"), "repositories": {"acme/app": rules}})
	not "create_issue" in v
}

test_write_tool_visible_through_global_allowlist if {
	p := policy_with({"tools": {"allow": rule_list("tools.allow", 4, "name", ["create_issue", "get_file_contents"])}})
	v := authz.visible_tools with input as listing(_tools, true) with data.aegis.policy as p
	v == ["create_issue", "get_file_contents"]
}

test_read_tool_visible_when_only_a_repository_allows_it if {
	v := authz.visible_tools with input as listing(_tools, false)
		with data.aegis.policy as policy_with({"defaults": read_default("deny")})
	v == ["get_file_contents"]
}

test_read_tool_invisible_when_its_only_allow_is_denied_there if {
	rules := repo_with_tools("acme/locked", "deny", 23, ["get_file_contents"])
	v := authz.visible_tools with input as listing(_tools, false)
		with data.aegis.policy as policy_with({"defaults": read_default("deny"), "repositories": {"acme/locked": rules}})
	v == []
}

test_duplicate_tool_names_listed_once if {
	tools := [{"name": "get_issue", "capability": "read"}, {"name": "get_issue", "capability": "read"}]
	v := authz.visible_tools with input as listing(tools, false) with data.aegis.policy as policy
	v == ["get_issue"]
}

test_nothing_visible_without_policy if {
	v := authz.visible_tools with input as listing(_tools, true)
	v == []
}

test_nothing_visible_for_malformed_input if {
	cases := {
		"version 2": object.union(listing(_tools, true), {"version": 2}),
		"no principal": object.remove(listing(_tools, true), ["principal"]),
		"tools not a list": listing({"name": "get_issue", "capability": "read"}, true),
		"tool without name": listing([{"capability": "read"}], true),
		"tool with empty name": listing([{"name": "", "capability": "read"}], true),
		"tool without capability": listing([{"name": "get_issue"}], true),
		"write_mode a string": listing(_tools, "true"),
	}
	failing := {note |
		some note, case in cases
		got := authz.visible_tools with input as case with data.aegis.policy as policy
		got != []
	}
	print("failing:", failing)
	failing == set()
}

test_tools_without_the_key_scope_are_invisible if {
	read_only := object.union(listing(_tools, true), {"principal": {"scopes": ["tools:read"]}})
	v := authz.visible_tools with input as read_only
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	v == ["get_file_contents", "list_commits"]
	none := object.union(listing(_tools, true), {"principal": {"scopes": []}})
	w := authz.visible_tools with input as none with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	w == []
}
