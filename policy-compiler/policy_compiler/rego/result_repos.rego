package aegis.authz

# METADATA
# title: Repositories a result may show
# description: |
#   For an allowed call without a repository (the version 1 decision input, such as
#   list_repositories) and input.repos, the repositories (lower-cased owner/name) its result
#   would show: those on which the same call would be allowed, in input order, and the revision
#   of the bundle that decided. The gateway withholds every other repository. None is allowed when
#   the call is not, for a call with a repository, for a malformed input, nor one that is not a
#   lower-cased owner/name.
# entrypoint: true
default allowed_repos := {"repos": [], "revision": null}

allowed_repos := {"repos": [repo | some repo in input.repos; _repo_shown(repo)], "revision": _revision} if {
	is_array(input.repos)
	input.resource.repo == null
	count(_precondition_failures) == 0
	_allowed
}

# The rules of one decision that depend on the repository (stages 8, 20 and 21), applied to `repo`
# instead of the call's missing one. Every grant of the call without a repository, an automation
# job's automation grant included, holds on any repository (roles limited to repositories only add
# grants), and the path, size and write rules
# do not apply to a read without a path, so these are the only rules that can deny it there.
# opa-tests/result_repos_test.rego checks that this always agrees with one decision per repository.
_repo_shown(repo) if {
	is_string(repo)
	_valid_repo(repo)
	not _outside_principal_scope(repo)
	every rules in _rule_sets_of(repo) {
		_tool_permitted_by(rules, _tool_name)
	}
}

_outside_principal_scope(repo) if {
	count(_principal.repositories.entries) > 0
	count(_repo_list_hits(_principal.repositories, repo)) == 0
}
