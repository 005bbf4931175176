package aegis.authz_test

import data.aegis.authz

_good := read_call("get_file_contents", "acme/other", "src/a.py")

_invalid := denied([deny("input.invalid", "builtin")])

test_well_formed_input_accepted if {
	d := authz.decision with input as _good with data.aegis.policy as policy
	d.allow == true
}

test_malformed_input_denied if {
	cases := {
		"not an object": "get_file_contents",
		"no version": object.remove(_good, ["version"]),
		"version 2": object.union(_good, {"version": 2}),
		"version as a string": object.union(_good, {"version": "1"}),
		"no principal": object.remove(_good, ["principal"]),
		"principal not an object": object.union(_good, {"principal": "ci-bot"}),
		"no tool": object.remove(_good, ["tool"]),
		"empty tool name": object.union(_good, {"tool": {"name": ""}}),
		"tool name not a string": object.union(_good, {"tool": {"name": 7}}),
		"no capability": object.union(_good, {"tool": {"name": "x", "capability": null}}),
		"no resource": object.remove(_good, ["resource"]),
		"resource without path": replaced(_good, "resource", {"repo": "acme/app", "ref": null}),
		"resource without repo": replaced(_good, "resource", {"path": null, "ref": null}),
		"resource without ref": replaced(_good, "resource", {"repo": "acme/app", "path": null}),
		"repo not lower-cased": object.union(_good, {"resource": {"repo": "Acme/App"}}),
		"repo without owner": object.union(_good, {"resource": {"repo": "app"}}),
		"repo with three parts": object.union(_good, {"resource": {"repo": "a/b/c"}}),
		"repo owner '..'": object.union(_good, {"resource": {"repo": "../app"}}),
		"repo name '.'": object.union(_good, {"resource": {"repo": "acme/."}}),
		"repo not a string": object.union(_good, {"resource": {"repo": ["acme/app"]}}),
		"path without repo": object.union(_good, {"resource": {"repo": null, "path": "a.py"}}),
		"absolute path": object.union(_good, {"resource": {"path": "/etc/passwd"}}),
		"path with '..'": object.union(_good, {"resource": {"path": "src/../secrets/key"}}),
		"path with '.'": object.union(_good, {"resource": {"path": "./src/a.py"}}),
		"path with '//'": object.union(_good, {"resource": {"path": "src//a.py"}}),
		"path with trailing '/'": object.union(_good, {"resource": {"path": "src/"}}),
		"empty path": object.union(_good, {"resource": {"path": ""}}),
		"path with a backslash": object.union(_good, {"resource": {"path": "src\\a.py"}}),
		"path with NUL": object.union(_good, {"resource": {"path": "src/a.py\u0000.txt"}}),
		"path with a newline": object.union(_good, {"resource": {"path": "src/a.py\n"}}),
		"path not a string": object.union(_good, {"resource": {"path": 3}}),
		"ref not a string": object.union(_good, {"resource": {"ref": 3}}),
		"no context": object.remove(_good, ["context"]),
		"write_mode missing": object.union(_good, {"context": {"write_mode": null}}),
		"write_mode a string": object.union(_good, {"context": {"write_mode": "false"}}),
	}
	failing := {note |
		some note, case in cases
		got := authz.decision with input as case with data.aegis.policy as policy
		got != _invalid
	}
	print("failing:", failing)
	failing == set()
}

test_malformed_input_denied_even_without_policy if {
	d := authz.decision with input as {"version": 2}
	d == refused([deny("input.invalid", "builtin"), deny("policy.missing", "builtin")])
}

test_no_policy_data_denies_everything if {
	d := authz.decision with input as _good
	d == refused([deny("policy.missing", "builtin")])
}

test_null_policy_data_denies_everything if {
	d := authz.decision with input as _good with data.aegis.policy as null
	d == refused([deny("policy.missing", "builtin")])
}

test_malformed_policy_data_is_not_valid if {
	cases := {
		"another data format": object.union(policy, {"format": 1}),
		"no format": object.remove(policy, ["format"]),
		"default effect unknown": policy_with({"defaults": {"read": {"effect": "maybe"}}}),
		"default without source": policy_with({"defaults": {"read": {"source": null}}}),
		"list without entries": replaced(policy, "tools", {
			"allow": absent("tools.allow"),
			"deny": {"rule": "tools.deny", "source": "builtin"},
		}),
		"list entries not an array": policy_with({"tools": {"deny": {"entries": {}}}}),
		"list without rule": policy_with({"tools": {"allow": {"rule": 1}}}),
		"list without source": policy_with({"tools": {"allow": {"source": 1}}}),
		"no write whitelist": object.remove(policy, ["write"]),
		"no audit settings": object.remove(policy, ["audit"]),
		"hashed argument without name": policy_with({"audit": {"hash_arguments": {
			"entries": [{"rule": "a[0]", "source": "p.yaml:4"}],
		}}}),
		"repositories not an object": policy_with({"repositories": []}),
		"repository without paths": replaced(policy, "repositories", {
			"acme/x": object.remove(policy.repositories["acme/app"], ["paths"]),
		}),
		"tool entry without name": policy_with({"tools": {"deny": {"entries": [{"rule": "d[0]", "source": "p.yaml:5"}]}}}),
		"entry without source": policy_with({"write": {"repositories": {"entries": [{"rule": "w[0]", "repo": "acme/app"}]}}}),
		"path regex that does not compile": replaced(policy, "repositories", {"acme/x": repo_rules("acme/x", {"paths": {
			"deny": rule_list("repo.acme/x.paths.deny", 3, "glob", [["x", "(?s)^(x$"]]),
		}})}),
		"path regex not a string": replaced(policy, "repositories", {"acme/x": repo_rules("acme/x", {"paths": {
			"allow": {"rule": "r", "source": "s", "entries": [{"rule": "r[0]", "source": "s", "glob": "x"}]},
		}})}),
		"not an object": "policy",
	}
	failing := {note |
		some note, case in cases
		authz.policy_valid with data.aegis.policy as case
	}
	print("failing:", failing)
	failing == set()
}

test_compiled_fixture_policy_is_valid if {
	authz.policy_valid with data.aegis.policy as policy
}

test_policy_without_the_format_mark_denied_on_every_query if {
	unmarked := object.remove(policy, ["format"])
	d := authz.decision with input as _good with data.aegis.policy as unmarked
	d == refused([deny("policy.invalid", "builtin")])
	v := authz.visible_tools with input as {"version": 1, "principal": {}, "tools": [], "context": {"write_mode": false}}
		with data.aegis.policy as unmarked
	v == []
}

test_ref_string_accepted if {
	d := authz.decision with input as object.union(_good, {"resource": {"ref": "main"}})
		with data.aegis.policy as policy
	d.allow == true
}
