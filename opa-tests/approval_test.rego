package aegis.authz_test

# The require_approval obligation of gated calls ("Approval required"), and its lists in policy_valid.

import data.aegis.authz

# The fixture policy, with writes and automation allowed by default on acme/app, acme/prod-* and
# beta/web, and:
#   write.require_approval: [create_or_update_file, create_pull_request, get_issue]   (line 9)
#   repositories:
#     acme/app:     require_approval [create_pull_request, create_issue_comment]     (line 30)
#     acme/prod-*:  require_approval [create_issue_comment]                          (line 40)
#     "*/app":      require_approval [create_branch, create_pull_request]            (line 45)
_approvals := policy_with({
	"defaults": {
		"write": {"rule": "defaults.write", "effect": "allow", "source": "p.yaml:3"},
		"automation": {"rule": "defaults.automation", "effect": "allow", "source": "p.yaml:4"},
	},
	"write": {
		"repositories": repo_list("write.repositories", 7, [
			"acme/app",
			["acme/prod-*", `(?s)^acme/prod-[^/]*$`, "acme/prod-x"],
			"beta/web",
		]),
		"require_approval": rule_list("write.require_approval", 9, "name", [
			"create_or_update_file",
			"create_pull_request",
			"get_issue",
		]),
	},
	"repositories": {"acme/app": object.union(policy.repositories["acme/app"], {
		"require_approval": rule_list("repo.acme/app.require_approval", 30, "name", [
			"create_pull_request",
			"create_issue_comment",
		]),
	})},
	"repository_globs": {
		"by_owner": {"acme": [glob_rules("acme/prod-*", `(?s)^acme/prod-[^/]*$`, {
			"require_approval": rule_list("repo.acme/prod-*.require_approval", 40, "name", ["create_issue_comment"]),
		})]},
		"any_owner": [glob_rules("*/app", `(?s)^[^/]*/app$`, {
			"require_approval": rule_list("repo.*/app.require_approval", 45, "name", ["create_branch", "create_pull_request"]),
		})],
	},
})

_approval(rule, line) := {"rule": rule, "source": sprintf("p.yaml:%d", [line])}

_write(tool, repo) := call(tool, "write", repo, null, true)

# An automation call by a key that holds the tools:automation scope.
_automation(tool, repo) := object.union(
	call(tool, "automation", repo, null, true),
	{"principal": {"scopes": ["tools:automation"]}},
)

test_approval_obligation_cases if {
	cases := {
		"a tool on the global list, once": {
			"input": _write("create_or_update_file", "acme/app"),
			"want": [_approval("write.require_approval[0]", 9)],
		},
		"a tool on the list of an exact repository key": {
			"input": _write("create_issue_comment", "acme/app"),
			"want": [_approval("repo.acme/app.require_approval[1]", 31)],
		},
		"a tool on the list of a repository glob key": {
			"input": _write("create_issue_comment", "acme/prod-db"),
			"want": [_approval("repo.acme/prod-*.require_approval[0]", 40)],
		},
		"every entry, global first, then by repository key (not by position)": {
			"input": _write("create_pull_request", "acme/app"),
			"want": [
				_approval("write.require_approval[1]", 10),
				_approval("repo.*/app.require_approval[1]", 46),
				_approval("repo.acme/app.require_approval[0]", 30),
			],
		},
		"the global list applies on every repository": {
			"input": _write("create_pull_request", "acme/prod-db"),
			"want": [_approval("write.require_approval[1]", 10)],
		},
		"an automation tool listed waits too": {
			"input": _automation("create_or_update_file", "acme/prod-db"),
			"want": [_approval("write.require_approval[0]", 9)],
		},
	}
	failing := {note: d.obligations |
		some note, case in cases
		d := authz.decision with input as case.input with data.aegis.policy as _approvals
		d.obligations != {"secrets": "mask", "require_approval": case.want}
	}
	print("failing:", failing)
	failing == {}
}

test_approval_obligation_ordered_with_reasons_unchanged if {
	d := authz.decision with input as _write("create_pull_request", "acme/app") with data.aegis.policy as _approvals
	d.allow == true
	d.reasons == [
		allow("context.write_mode", "builtin"),
		allow("write.repositories[0]", "p.yaml:7"),
		allow("defaults.write", "p.yaml:3"),
	]
}

test_no_approval_obligation_cases if {
	cases := {
		"an unlisted write tool": _write("create_issue", "acme/app"),
		"a tool listed for another repository key": _write("create_issue_comment", "beta/web"),
		"a read tool, even listed": read_call("get_issue", "acme/app", null),
		"a read tool listed, under a read capability whatever its name": read_call("create_or_update_file", "acme/app", null),
	}
	failing := {note: d |
		some note, case in cases

		# The decision is taken `with` a policy and an input, which a comprehension term cannot carry.
		# regal ignore:comprehension-term-assignment
		d := authz.decision with input as case with data.aegis.policy as _approvals
		d != allowed(d.reasons)
	}
	print("failing:", failing)
	failing == {}
}

test_no_approval_obligation_on_deny if {
	cases := {
		"WRITE_MODE off": call("create_pull_request", "write", "acme/app", null, false),
		"repository off the write whitelist": _write("create_or_update_file", "acme/other"),
		"key without the scope": object.union(
			_write("create_or_update_file", "acme/app"),
			{"principal": {"scopes": ["tools:read"]}},
		),
	}
	failing := {note: d |
		some note, case in cases

		# The decision is taken `with` a policy and an input, which a comprehension term cannot carry.
		# regal ignore:comprehension-term-assignment
		d := authz.decision with input as case with data.aegis.policy as _approvals
		d != denied(d.reasons)
	}
	print("failing:", failing)
	failing == {}
}

test_approval_fixture_policy_is_valid if {
	authz.policy_valid with data.aegis.policy as _approvals
}

test_malformed_require_approval_lists_are_not_valid if {
	entry_without_name := {"rule": "write.require_approval[0]", "source": "p.yaml:9"}
	cases := {
		"no global list": replaced(_approvals, "write", object.remove(_approvals.write, ["require_approval"])),
		"global entries not an array": object.union(_approvals, {"write": {"require_approval": {"entries": {}}}}),
		"global entry without a name": object.union(
			_approvals,
			{"write": {"require_approval": {"entries": [entry_without_name]}}},
		),
		"global list without source": object.union(_approvals, {"write": {"require_approval": {"source": null}}}),
		"repository key without the list": replaced(_approvals, "repositories", {
			"acme/app": object.remove(_approvals.repositories["acme/app"], ["require_approval"]),
		}),
		"repository entry name not a string": replaced(_approvals, "repositories", {"acme/app": repo_rules("acme/app", {
			"require_approval": rule_list("repo.acme/app.require_approval", 30, "name", [7]),
		})}),
		"glob key entry without a source": object.union(_approvals, {"repository_globs": {"any_owner": [
			glob_rules("*/app", `(?s)^[^/]*/app$`, {"require_approval": {
				"rule": "r",
				"source": "s",
				"entries": [{"rule": "r[0]", "name": "create_pull_request"}],
			}}),
		]}}),
	}
	failing := {note |
		some note, case in cases
		authz.policy_valid with data.aegis.policy as case
	}
	print("failing:", failing)
	failing == set()
}

# A bundle of data format 3 (before require_approval) is refused, whole shape or not.
_format_3 := object.union(
	replaced(
		replaced(policy, "write", object.remove(policy.write, ["require_approval"])),
		"repositories",
		{name: object.remove(rules, ["require_approval"]) | some name, rules in policy.repositories},
	),
	{"format": 3},
)

test_format_3_is_refused if {
	not authz.policy_valid with data.aegis.policy as _format_3
	not authz.policy_valid with data.aegis.policy as object.union(policy, {"format": 3})
	d := authz.decision with input as read_call("get_file_contents", "acme/other", null)
		with data.aegis.policy as _format_3
	d == refused([deny("policy.invalid", "builtin")])
}

# A bundle of data format 4 (before audit.hash_arguments) is refused, whole shape or not.
test_format_4_is_refused if {
	format_4 := object.union(object.remove(policy, ["audit"]), {"format": 4})
	not authz.policy_valid with data.aegis.policy as format_4
	not authz.policy_valid with data.aegis.policy as object.union(policy, {"format": 4})
	d := authz.decision with input as read_call("get_file_contents", "acme/other", null)
		with data.aegis.policy as format_4
	d == refused([deny("policy.invalid", "builtin")])
}
