package aegis.authz_test

import data.aegis.authz

# Automation jobs: the calls of principal "automation:<job>" (kind "automation") are decided as the
# same call of the tool's own capability, and need an automation grant on top (docs/policy.md,
# "Automation principals").

# `policy`, plus:
# defaults.automation deny (builtin), defaults.write allow (line 3)
# write: {repositories: [acme/app] (line 8), require_approval: [create_issue_comment] (line 9)}
# roles:
#   automaton: capabilities [automation] (line 41), repositories [acme/app] (line 42)
#   reader:    capabilities [read] (line 45)
# principals:
#   automation:nightly: roles [automaton] (line 51)
#   automation:scoped:  roles [automaton] (line 54), repositories [acme/app] (line 55)
_jobs := policy_with({
	"defaults": object.union(policy.defaults, write_default("allow")),
	"write": {
		"repositories": repo_list("write.repositories", 8, ["acme/app"]),
		"branches": absent("write.branches"),
		"require_approval": rule_list("write.require_approval", 9, "name", ["create_issue_comment"]),
	},
	"roles": {
		"automaton": {
			"rule": "roles.automaton",
			"source": "p.yaml:40",
			"tools": {"allow": absent("roles.automaton.tools.allow"), "deny": absent("roles.automaton.tools.deny")},
			"capabilities": rule_list("roles.automaton.capabilities", 41, "capability", ["automation"]),
			"repositories": repo_list("roles.automaton.repositories", 42, ["acme/app"]),
		},
		"reader": {
			"rule": "roles.reader",
			"source": "p.yaml:44",
			"tools": {"allow": absent("roles.reader.tools.allow"), "deny": absent("roles.reader.tools.deny")},
			"capabilities": rule_list("roles.reader.capabilities", 45, "capability", ["read"]),
			"repositories": absent_repo_list("roles.reader.repositories"),
		},
	},
	"principals": {
		"automation:nightly": _job_principal(
			"nightly", 50, ["automaton"],
			absent_repo_list("principals.automation:nightly.repositories"),
		),
		"automation:scoped": _job_principal(
			"scoped", 53, ["automaton"],
			repo_list("principals.automation:scoped.repositories", 55, ["acme/app"]),
		),
	},
})

_job_principal(job, line, roles, repositories) := {
	"rule": sprintf("principals.automation:%s", [job]),
	"source": sprintf("p.yaml:%d", [line]),
	"roles": rule_list(sprintf("principals.automation:%s.roles", [job]), line + 1, "role", roles),
	"not_before": null,
	"expires": null,
	"repositories": repositories,
}

# `_jobs` with defaults.automation allow (line 4).
_jobs_allowed := object.union(_jobs, {"defaults": {"automation": _automation_default("allow")}})

# defaults.automation with `effect`, at line 4.
_automation_default(effect) := {"rule": "defaults.automation", "effect": effect, "source": "p.yaml:4"}

_all_scopes := ["tools:read", "tools:write", "tools:automation"]

# A call by the automation job `job`, triggered by a webhook.
_job_call(job, tool, capability, repo, path, write_mode) := object.union(
	call(tool, capability, repo, path, write_mode),
	{
		"principal": {"id": concat(":", ["automation", job]), "kind": "automation", "scopes": _all_scopes},
		"context": {"automation": {"job": job, "trigger": "webhook", "event": "issues", "delivery": "d-1"}},
	},
)

_nightly_read(repo, path) := _job_call("nightly", "get_file_contents", "read", repo, path, false)

# --- the gate ---------------------------------------------------------------------------------

test_automation_without_grant_denied_by_its_default if {
	d := authz.decision with input as _nightly_read("acme/other", "src/a.py") with data.aegis.policy as _jobs
	d == denied([deny("defaults.automation", "builtin")])
}

test_automation_default_names_its_line if {
	p := object.union(_jobs, {"defaults": {"automation": _automation_default("deny")}})
	d := authz.decision with input as _nightly_read("acme/other", null) with data.aegis.policy as p
	d == denied([deny("defaults.automation", "p.yaml:4")])
}

test_automation_allowed_by_its_default if {
	d := authz.decision with input as _nightly_read("acme/other", "src/a.py") with data.aegis.policy as _jobs_allowed
	d == allowed([allow("defaults.automation", "p.yaml:4"), allow("defaults.read", "p.yaml:2")])
}

test_automation_read_not_gated_by_write_mode if {
	d := authz.decision with input as _nightly_read("acme/app", "src/a.py") with data.aegis.policy as _jobs
	d == allowed([
		allow("principals.automation:nightly.roles[0]", "p.yaml:51"),
		allow("repo.acme/app.paths.allow[0]", "p.yaml:14"),
		allow("defaults.read", "p.yaml:2"),
		allow("roles.automaton.capabilities[0]", "p.yaml:41"),
	])
}

test_automation_role_grant_applies_on_its_repositories_only if {
	d := authz.decision with input as _nightly_read("acme/other", null) with data.aegis.policy as _jobs
	d == denied([deny("defaults.automation", "builtin")])
	e := authz.decision with input as _nightly_read(null, null) with data.aegis.policy as _jobs
	e == denied([deny("defaults.automation", "builtin")])
}

test_automation_grant_is_no_explicit_allow_of_the_tool if {
	p := object.union(_jobs_allowed, {"defaults": read_default("deny")})
	d := authz.decision with input as _nightly_read("acme/other", null) with data.aegis.policy as p
	d == denied([deny("defaults.read", "p.yaml:2")])
}

test_automation_needs_both_grants_and_names_both_denials if {
	p := object.union(_jobs, {"defaults": read_default("deny")})
	d := authz.decision with input as _nightly_read("acme/other", null) with data.aegis.policy as p
	d == denied([deny("defaults.automation", "builtin"), deny("defaults.read", "p.yaml:2")])
}

test_automation_role_of_another_capability_grants_the_tool_not_the_gate if {
	p := object.union(_jobs, {
		"defaults": read_default("deny"),
		"principals": {"automation:nightly": {
			"roles": rule_list("principals.automation:nightly.roles", 51, "role", ["reader", "automaton"]),
		}},
	})
	d := authz.decision with input as _nightly_read("acme/app", null) with data.aegis.policy as p
	d == allowed([
		allow("principals.automation:nightly.roles[0]", "p.yaml:51"),
		allow("principals.automation:nightly.roles[1]", "p.yaml:52"),
		allow("roles.automaton.capabilities[0]", "p.yaml:41"),
		allow("roles.reader.capabilities[0]", "p.yaml:45"),
	])
	e := authz.decision with input as _nightly_read("acme/other", null) with data.aegis.policy as p
	e == denied([deny("defaults.automation", "builtin")])
}

# --- the tool's own rules still apply ------------------------------------------------------------

test_automation_still_decided_by_the_tools_own_rules if {
	cases := {
		"global tools.deny": {
			"input": _job_call("nightly", "search_code", "read", "acme/app", null, false),
			"want": [deny("tools.deny[0]", "p.yaml:5")],
		},
		"repository tools.deny": {
			"input": _job_call("nightly", "list_commits", "read", "acme/app", null, false),
			"want": [deny("repo.acme/app.tools.deny[0]", "p.yaml:12")],
		},
		"path deny": {
			"input": _nightly_read("acme/app", "src/secrets/k.txt"),
			"want": [deny("repo.acme/app.paths.deny[0]", "p.yaml:17")],
		},
		"path allowlist": {
			"input": _nightly_read("acme/app", "docs/x.md"),
			"want": [deny("repo.acme/app.paths.allow", "p.yaml:14")],
		},
		"secret-store path": {
			"input": _nightly_read("acme/other", ".env"),
			"want": [deny("builtin.secret_store_paths", "builtin")],
		},
		"repository scope of the job": {
			"input": _job_call("scoped", "get_file_contents", "read", "acme/lib", null, false),
			"want": [deny("principals.automation:scoped.repositories", "p.yaml:55")],
		},
	}
	failing := {note |
		some note, case in cases
		got := authz.decision with input as case.input with data.aegis.policy as _jobs_allowed
		got != denied(case.want)
	}
	print("failing:", failing)
	failing == set()
}

test_automation_within_its_repository_scope if {
	d := authz.decision with input as _job_call("scoped", "get_issue", "read", "acme/app", null, false)
		with data.aegis.policy as _jobs
	d == allowed([
		allow("principals.automation:scoped.repositories[0]", "p.yaml:55"),
		allow("principals.automation:scoped.roles[0]", "p.yaml:54"),
		allow("defaults.read", "p.yaml:2"),
		allow("roles.automaton.capabilities[0]", "p.yaml:41"),
	])
}

# --- writes -------------------------------------------------------------------------------------

test_automation_write_passes_the_write_gate if {
	d := authz.decision with input as _job_call("nightly", "add_labels", "write", "acme/app", null, true)
		with data.aegis.policy as _jobs
	d == allowed([
		allow("principals.automation:nightly.roles[0]", "p.yaml:51"),
		allow("context.write_mode", "builtin"),
		allow("write.repositories[0]", "p.yaml:8"),
		allow("defaults.write", "p.yaml:3"),
		allow("roles.automaton.capabilities[0]", "p.yaml:41"),
	])
}

test_automation_write_denied_with_write_mode_off if {
	d := authz.decision with input as _job_call("nightly", "add_labels", "write", "acme/app", null, false)
		with data.aegis.policy as _jobs
	d == denied([deny("context.write_mode", "builtin")])
}

test_automation_write_denied_off_the_whitelist if {
	d := authz.decision with input as _job_call("nightly", "add_labels", "write", "acme/other", null, true)
		with data.aegis.policy as _jobs_allowed
	d == denied([deny("write.repositories", "p.yaml:8")])
}

test_automation_write_needs_an_explicit_write_allow if {
	p := object.union(_jobs_allowed, {"defaults": write_default("deny")})
	d := authz.decision with input as _job_call("nightly", "add_labels", "write", "acme/app", null, true)
		with data.aegis.policy as p
	d == denied([deny("defaults.write", "p.yaml:3")])
}

test_automation_write_held_for_approval if {
	d := authz.decision with input as _job_call("nightly", "create_issue_comment", "write", "acme/app", null, true)
		with data.aegis.policy as _jobs
	d.allow == true
	d.obligations == {"secrets": "mask", "require_approval": [{"rule": "write.require_approval[0]", "source": "p.yaml:9"}]}
	allow("roles.automaton.capabilities[0]", "p.yaml:41") in d.reasons
}

# --- scope ----------------------------------------------------------------------------------------

test_automation_needs_the_automation_scope if {
	cases := {
		"read without tools:automation": {"scopes": ["tools:read", "tools:write"], "capability": "read"},
		"write without tools:automation": {"scopes": ["tools:read", "tools:write"], "capability": "write"},
		"read with tools:automation only": {"scopes": ["tools:automation"], "capability": "read"},
		"no scope at all": {"scopes": [], "capability": "read"},
	}
	failing := {note |
		some note, case in cases
		job := object.union(
			_job_call("nightly", "get_issue", case.capability, "acme/app", null, true),
			{"principal": {"scopes": case.scopes}},
		)
		got := authz.decision with input as job with data.aegis.policy as _jobs_allowed
		got != denied([deny("principal.scope", "builtin")])
	}
	print("failing:", failing)
	failing == set()
}

# --- who is an automation job -----------------------------------------------------------------------

test_automation_id_is_gated_whatever_its_kind if {
	job := object.union(_nightly_read("acme/other", null), {"principal": {"kind": "api_key"}})
	d := authz.decision with input as job with data.aegis.policy as _jobs
	d == denied([deny("defaults.automation", "builtin")])
}

test_automation_kind_is_gated_whatever_its_id if {
	job := object.union(_nightly_read("acme/other", null), {"principal": {"id": "nightly"}})
	d := authz.decision with input as job with data.aegis.policy as _jobs
	d == denied([deny("defaults.automation", "builtin")])
}

test_automation_tool_of_a_job_names_each_reason_once if {
	job := _job_call("nightly", "run_workflow", "automation", "acme/app", null, true)
	d := authz.decision with input as job with data.aegis.policy as _jobs
	d == allowed([
		allow("principals.automation:nightly.roles[0]", "p.yaml:51"),
		allow("context.write_mode", "builtin"),
		allow("write.repositories[0]", "p.yaml:8"),
		allow("roles.automaton.capabilities[0]", "p.yaml:41"),
	])
	roleless := object.union(_jobs, {"principals": {"automation:nightly": {"roles": absent("r")}}})
	e := authz.decision with input as job with data.aegis.policy as roleless
	e == denied([deny("defaults.automation", "builtin")])
}

test_agent_decisions_unchanged_by_defaults_automation if {
	calls := [
		read_call("get_file_contents", "acme/app", "src/a.py"),
		read_call("get_file_contents", "acme/other", null),
		call("add_labels", "write", "acme/app", null, true),
		call("create_issue_comment", "write", "acme/app", null, true),
		call("add_labels", "write", "acme/app", null, false),
	]
	changed := {i |
		some i, agent in calls
		under_deny := authz.decision with input as agent with data.aegis.policy as _jobs
		under_allow := authz.decision with input as agent with data.aegis.policy as _jobs_allowed
		under_deny != under_allow
	}
	print("changed:", changed)
	changed == set()
	d := authz.decision with input as read_call("get_file_contents", "acme/other", null) with data.aegis.policy as _jobs
	d == allowed([allow("defaults.read", "p.yaml:2")])
}

# --- input ---------------------------------------------------------------------------------------

test_malformed_automation_context_is_invalid_input if {
	cases := {
		"a string": "nightly",
		"a list": ["nightly"],
		"no job": {"trigger": "webhook"},
		"empty job": {"job": ""},
		"job not a string": {"job": 7},
		"job null": {"job": null},
	}
	failing := {note |
		some note, automation in cases
		context := {"write_mode": false, "time": "2026-11-21T10:00:00Z", "automation": automation}
		job := replaced(_nightly_read("acme/app", null), "context", context)
		got := authz.decision with input as job with data.aegis.policy as _jobs_allowed
		got != denied([deny("input.invalid", "builtin")])
	}
	print("failing:", failing)
	failing == set()
}

test_automation_context_may_be_absent_or_null if {
	absent_context := replaced(_nightly_read("acme/other", null), "context", {"write_mode": false})
	d := authz.decision with input as absent_context with data.aegis.policy as _jobs_allowed
	d.allow == true
	null_context := object.union(read_call("get_issue", "acme/other", null), {"context": {"automation": null}})
	e := authz.decision with input as null_context with data.aegis.policy as _jobs
	e.allow == true
	schedule := {"trigger": "schedule", "event": null, "delivery": null}
	scheduled := object.union(_nightly_read("acme/other", null), {"context": {"automation": schedule}})
	f := authz.decision with input as scheduled with data.aegis.policy as _jobs_allowed
	f.allow == true
}

test_automation_fixture_policy_is_valid if {
	authz.policy_valid with data.aegis.policy as _jobs
}
