package aegis.authz_test

import data.aegis.authz

# list_repositories, listing `repos` (fixture policy: acme/app denies list_commits, acme/locked
# allows get_file_contents only).
repo_listing(tool, repos) := object.union(read_call(tool, null, null), {"repos": repos})

test_allowed_repos_keeps_only_repositories_the_call_may_show_in_order if {
	listing := repo_listing("list_repositories", ["acme/app", "acme/locked", "other/x", "acme/app"])
	result := authz.allowed_repos with input as listing with data.aegis.policy as policy
	result == {"repos": ["acme/app", "other/x", "acme/app"], "revision": null}
}

test_allowed_repos_applies_repository_tool_denies_to_the_listing_tool if {
	listing := repo_listing("list_commits", ["acme/app", "acme/locked", "other/x"])
	result := authz.allowed_repos with input as listing with data.aegis.policy as policy
	result.repos == ["other/x"]
}

test_allowed_repos_reports_the_bundle_revision if {
	result := authz.allowed_repos with input as repo_listing("list_repositories", ["a/b"])
		with data.aegis.policy as policy
		with data.aegis.meta.revision as "rev-9"
	result == {"repos": ["a/b"], "revision": "rev-9"}
}

test_allowed_repos_keeps_a_scoped_principal_inside_its_repositories if {
	listing := object.union(
		_bot_read("list_repositories", {"repo": null, "path": null, "ref": null}),
		{"repos": ["acme/app", "acme/web", "beta/x", "gamma/app"]},
	)
	result := authz.allowed_repos with input as listing with data.aegis.policy as _v1
	result.repos == ["acme/app", "beta/x"]
}

test_allowed_repos_refuses_names_that_are_not_normalized if {
	weird := ["Acme/App", "acme", "acme/app/x", "../x", "", 7, null, "acme/ok"]
	result := authz.allowed_repos with input as repo_listing("list_repositories", weird) with data.aegis.policy as policy
	result.repos == ["acme/ok"]
}

test_allowed_repos_is_empty_when_the_call_is_denied_malformed_or_has_a_repository if {
	denied_call := object.union(repo_listing("search_code", ["acme/app"]), {})
	denied_result := authz.allowed_repos with input as denied_call with data.aegis.policy as policy
	denied_result.repos == []
	with_repo := object.union(read_call("get_repository_info", "acme/app", null), {"repos": ["acme/app"]})
	scoped := authz.allowed_repos with input as with_repo with data.aegis.policy as policy
	scoped.repos == []
	not_a_list := authz.allowed_repos with input as repo_listing("list_repositories", "acme/app")
		with data.aegis.policy as policy
	not_a_list == {"repos": [], "revision": null}
	no_policy := authz.allowed_repos with input as repo_listing("list_repositories", ["acme/app"])
		with data.aegis.policy as null
	no_policy.repos == []
}

# The batch applies the repository rules alone; these cases check it against the whole decision
# made once per repository, for principals with and without a repository scope and roles.
_sample_repos := ["acme/app", "acme/locked", "acme/web", "beta/x", "beta/docs", "gamma/app", "zeta/docs"]

_sample_callers := {
	"fixture, unlisted key": {"policy": policy, "who": "ci-bot"},
	"v1, scoped bot with roles": {"policy": _v1, "who": "bot-1"},
	"v1, unlisted key": {"policy": object.union(_v1, {"defaults": read_default("allow")}), "who": "someone"},
	"automation job, allowed by its default": {
		"policy": _jobs_allowed, "who": "automation:nightly",
		"principal": _job_principal_input,
	},
	"automation job with a repository scope": {
		"policy": _jobs_allowed, "who": "automation:scoped",
		"principal": _job_principal_input,
	},
}

_job_principal_input := {"kind": "automation", "scopes": ["tools:read", "tools:automation"]}

test_allowed_repos_agrees_with_one_decision_per_repository if {
	disagreements := {[name, tool] |
		some name, caller in _sample_callers
		some tool in ["list_repositories", "list_commits", "get_file_contents", "get_issue"]
		listing := object.union(
			as_call(caller.who, tool, "read", {"repo": null, "path": null, "ref": null}, _in_window),
			{"repos": _sample_repos, "principal": object.get(caller, "principal", {})},
		)
		batch := authz.allowed_repos with input as listing with data.aegis.policy as caller.policy
		one_by_one := [repo |
			some repo in _sample_repos
			d := authz.decision with input as listing with input.resource.repo as repo
				with data.aegis.policy as caller.policy
			d.allow
		]
		batch.repos != one_by_one
	}
	disagreements == set()
}
