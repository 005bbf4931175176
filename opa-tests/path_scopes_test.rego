package aegis.authz_test

import data.aegis.authz

# Path rules per role and per principal (docs/policy.md, "Path rules per role and principal").
# The fixture's acme/app (paths.allow [src/**, README.md] line 14, paths.deny [src/secrets/**] line 17) plus:
#   paths.roles.docs-bot:        allow [README.md, src/docs/**] (line 40), deny [src/docs/drafts/**] (line 42)
#   paths.roles.reviewer:        deny [src/vendor/**] (line 44)
#   paths.principals.ci-bot:     deny [src/deploy/**] (line 46)
#   paths.principals.docs-lead:  allow [src/docs/public/**] (line 48)
# and the glob key "acme/*": paths.roles.docs-bot.deny [**/*.sql] (line 50).
# principals: docs-1 [docs-bot], docs-lead [docs-bot], mixed [docs-bot, reviewer], ci-bot (no role).

_glob_list(rule, line, globs) := rule_list(rule, line, "glob", globs)

_scoped(rule, allow_line, allow, deny_line, deny) := {
	"allow": _scoped_list(sprintf("%s.allow", [rule]), allow_line, allow),
	"deny": _scoped_list(sprintf("%s.deny", [rule]), deny_line, deny),
}

_scoped_list(rule, _, []) := absent(rule)

_scoped_list(rule, line, globs) := _glob_list(rule, line, globs) if count(globs) > 0

_docs := ["src/docs/**", `(?s)^src/docs(?:/.*)?$`]

_readme := ["README.md", `(?s)^README\.md$`]

_role(name) := {
	"rule": sprintf("roles.%s", [name]),
	"source": "p.yaml:60",
	"tools": {
		"allow": absent(sprintf("roles.%s.tools.allow", [name])),
		"deny": absent(sprintf("roles.%s.tools.deny", [name])),
	},
	"capabilities": absent(sprintf("roles.%s.capabilities", [name])),
	"repositories": absent_repo_list(sprintf("roles.%s.repositories", [name])),
}

_member(name, line, roles) := {
	"rule": sprintf("principals.%s", [name]),
	"source": sprintf("p.yaml:%d", [line]),
	"roles": rule_list(sprintf("principals.%s.roles", [name]), line, "role", roles),
	"not_before": null,
	"expires": null,
	"repositories": absent_repo_list(sprintf("principals.%s.repositories", [name])),
}

scoped_policy := policy_with({
	"repositories": {
		"acme/app": object.union(policy.repositories["acme/app"], {"paths": {
			"roles": {
				"docs-bot": _scoped(
					"repo.acme/app.paths.roles.docs-bot", 40, [_readme, _docs],
					42, [["src/docs/drafts/**", `(?s)^src/docs/drafts(?:/.*)?$`]],
				),
				"reviewer": _scoped(
					"repo.acme/app.paths.roles.reviewer", 0, [],
					44, [["src/vendor/**", `(?s)^src/vendor(?:/.*)?$`]],
				),
			},
			"principals": {
				"ci-bot": _scoped(
					"repo.acme/app.paths.principals.ci-bot", 0, [],
					46, [["src/deploy/**", `(?s)^src/deploy(?:/.*)?$`]],
				),
				"docs-lead": _scoped(
					"repo.acme/app.paths.principals.docs-lead", 48, [["src/docs/public/**", `(?s)^src/docs/public(?:/.*)?$`]],
					0, [],
				),
			},
		}}),
		"acme/locked": policy.repositories["acme/locked"],
	},
	"repository_globs": {
		"by_owner": {"acme": [glob_rules("acme/*", `(?s)^acme/[^/]*$`, {"paths": {"roles": {"docs-bot": _scoped(
			"repo.acme/*.paths.roles.docs-bot", 0, [],
			50, [["**/*.sql", `(?s)^(?:.*/)?.*\.sql$`]],
		)}}})]},
		"any_owner": [],
	},
	"roles": {"docs-bot": _role("docs-bot"), "reviewer": _role("reviewer")},
	"principals": {
		"docs-1": _member("docs-1", 70, ["docs-bot"]),
		"docs-lead": _member("docs-lead", 72, ["docs-bot"]),
		"mixed": _member("mixed", 74, ["docs-bot", "reviewer"]),
		"ci-bot": _member("ci-bot", 76, []),
	},
})

_read_as(who, path) := object.union(read_call("get_file_contents", "acme/app", path), {"principal": {"id": who}})

test_scoped_policy_is_valid if {
	authz.policy_valid with data.aegis.policy as scoped_policy
}

# The table of test_path_scope_cases: a reader and a path of acme/app, and the decision expected.
_path_scope_cases := {
	"a role allowlist restricts the role's holders": {
		"who": "docs-1", "path": "src/main.py",
		"want": denied([deny("repo.acme/app.paths.roles.docs-bot.allow", "p.yaml:40")]),
	},
	"a role allowlist does not restrict others": {
		"who": "ci-bot", "path": "src/main.py",
		"want": allowed([allow("repo.acme/app.paths.allow[0]", "p.yaml:14"), allow("defaults.read", "p.yaml:2")]),
	},
	"a holder is allowed what every allowlist allows, each glob named": {
		"who": "docs-1", "path": "src/docs/guide.md",
		"want": allowed([
			allow("repo.acme/app.paths.allow[0]", "p.yaml:14"),
			allow("repo.acme/app.paths.roles.docs-bot.allow[1]", "p.yaml:41"),
			allow("defaults.read", "p.yaml:2"),
		]),
	},
	"a role allowlist never widens the repository allowlist": {
		"who": "docs-1", "path": "docs/guide.md",
		"want": denied([
			deny("repo.acme/app.paths.allow", "p.yaml:14"),
			deny("repo.acme/app.paths.roles.docs-bot.allow", "p.yaml:40"),
		]),
	},
	"the repository deny applies to holders": {
		"who": "docs-1", "path": "src/secrets/a",
		"want": denied([
			deny("repo.acme/app.paths.deny[0]", "p.yaml:17"),
			deny("repo.acme/app.paths.roles.docs-bot.allow", "p.yaml:40"),
		]),
	},
	"a role deny beats the role's own allow": {
		"who": "docs-1", "path": "src/docs/drafts/x.md",
		"want": denied([deny("repo.acme/app.paths.roles.docs-bot.deny[0]", "p.yaml:42")]),
	},
	"a role deny does not touch others": {
		"who": "ci-bot", "path": "src/docs/drafts/x.md",
		"want": allowed([allow("repo.acme/app.paths.allow[0]", "p.yaml:14"), allow("defaults.read", "p.yaml:2")]),
	},
	"a principal deny applies to that principal": {
		"who": "ci-bot", "path": "src/deploy/run.sh",
		"want": denied([deny("repo.acme/app.paths.principals.ci-bot.deny[0]", "p.yaml:46")]),
	},
	"a principal deny does not touch others": {
		"who": "mixed", "path": "src/deploy/run.sh",
		"want": denied([deny("repo.acme/app.paths.roles.docs-bot.allow", "p.yaml:40")]),
	},
	"a principal allowlist narrows its role's allowlist": {
		"who": "docs-lead", "path": "src/docs/guide.md",
		"want": denied([deny("repo.acme/app.paths.principals.docs-lead.allow", "p.yaml:48")]),
	},
	"a principal passes its role's and its own allowlists": {
		"who": "docs-lead", "path": "src/docs/public/a.md",
		"want": allowed([
			allow("repo.acme/app.paths.allow[0]", "p.yaml:14"),
			allow("repo.acme/app.paths.roles.docs-bot.allow[1]", "p.yaml:41"),
			allow("repo.acme/app.paths.principals.docs-lead.allow[0]", "p.yaml:48"),
			allow("defaults.read", "p.yaml:2"),
		]),
	},
	"a second role adds its denies": {
		"who": "mixed", "path": "src/vendor/lib.py",
		"want": denied([
			deny("repo.acme/app.paths.roles.reviewer.deny[0]", "p.yaml:44"),
			deny("repo.acme/app.paths.roles.docs-bot.allow", "p.yaml:40"),
		]),
	},
	"the role rules of a matching glob key apply too": {
		"who": "docs-1", "path": "src/docs/schema.sql",
		"want": denied([deny("repo.acme/*.paths.roles.docs-bot.deny[0]", "p.yaml:50")]),
	},
	"an unlisted key gets the repository rules only": {
		"who": "someone", "path": "src/deploy/run.sh",
		"want": allowed([allow("repo.acme/app.paths.allow[0]", "p.yaml:14"), allow("defaults.read", "p.yaml:2")]),
	},
}

test_path_scope_cases if {
	failing := {note |
		some note, case in _path_scope_cases
		d := authz.decision with input as _read_as(case.who, case.path) with data.aegis.policy as scoped_policy
		d != case.want
	}
	print("failing:", failing)
	failing == set()
}

test_roles_named_by_the_input_are_not_read if {
	claimed := object.union(_read_as("someone", "src/main.py"), {"principal": {"roles": ["docs-bot"]}})
	d := authz.decision with input as claimed with data.aegis.policy as scoped_policy
	d.allow
}

test_path_scope_rules_of_another_repository_do_not_apply if {
	call := object.union(read_call("get_file_contents", "other/app", "src/main.py"), {"principal": {"id": "docs-1"}})
	d := authz.decision with input as call with data.aegis.policy as scoped_policy
	d.allow
}

test_path_scope_rules_do_not_apply_to_a_call_without_path if {
	d := authz.decision with input as _read_as("docs-1", null) with data.aegis.policy as scoped_policy
	d.allow
}

_scoped_samples := [
	"src/main.py", "src", "src/docs", "src/docs/guide.md", "src/docs/drafts/x.md", "src/docs/public/a.md",
	"src/docs/schema.sql", "src/deploy/run.sh", "src/vendor/lib.py", "src/secrets/a", "README.md", "docs/x.md",
	"src/docs/.env",
]

test_allowed_paths_applies_role_and_principal_rules_as_the_decision_does if {
	disagreements := {[who, repo] |
		some who in ["docs-1", "docs-lead", "mixed", "ci-bot", "someone"]
		some repo in ["acme/app", "acme/other"]
		call := object.union(read_call("get_file_tree", repo, null), {"principal": {"id": who}, "paths": _scoped_samples})
		batch := authz.allowed_paths with input as call with data.aegis.policy as scoped_policy
		one_by_one := [path |
			some path in _scoped_samples
			d := authz.decision with input as call with input.resource.path as path with data.aegis.policy as scoped_policy
			d.allow
		]
		batch.paths != one_by_one
	}
	disagreements == set()
}

test_allowed_paths_of_a_role_holder if {
	call := object.union(
		read_call("get_file_tree", "acme/app", null),
		{"principal": {"id": "docs-1"}, "paths": _scoped_samples},
	)
	batch := authz.allowed_paths with input as call with data.aegis.policy as scoped_policy
	batch.paths == ["src/docs", "src/docs/guide.md", "src/docs/public/a.md", "README.md"]
}

test_policy_valid_refuses_bad_path_scopes if {
	app := scoped_policy.repositories["acme/app"]
	broken := {
		"an undefined role": object.union(app, {"paths": {"roles": {"ghost": app.paths.roles["docs-bot"]}}}),
		"an unlisted principal": object.union(app, {"paths": {"principals": {"ghost": app.paths.principals["ci-bot"]}}}),
		"a bad regex": object.union(app, {"paths": {"roles": {"docs-bot": {"deny": _glob_list("x", 1, [["(", "("]])}}}}),
		"roles not an object": object.union(app, {"paths": {"roles": []}}),
		"principals missing": replaced(app, "paths", object.remove(app.paths, ["principals"])),
	}
	accepted := {note |
		some note, rules in broken
		repositories := object.union(object.remove(scoped_policy.repositories, ["acme/app"]), {"acme/app": rules})
		authz.policy_valid with data.aegis.policy as replaced(scoped_policy, "repositories", repositories)
	}
	accepted == set()
}

test_data_format_4_is_refused if {
	old := object.union(policy, {"format": 4})
	not authz.policy_valid with data.aegis.policy as old
	d := authz.decision with input as read_call("get_issue", "acme/app", null) with data.aegis.policy as old
	d == refused([deny("policy.invalid", "builtin")])
}
