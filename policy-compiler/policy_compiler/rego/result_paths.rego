package aegis.authz

# METADATA
# title: Paths a result may show
# description: |
#   For an allowed call (the version 1 decision input, without a size) and input.paths, the
#   repository paths its result would show (tree entries, files searched, files of a diff):
#   those on which the same call would be allowed, in input order, and the revision of the
#   bundle that decided. The gateway withholds every other path. No path is allowed when the
#   call is not, for a malformed input, nor one that is not a normalized relative path.
# entrypoint: true
default allowed_paths := {"paths": [], "revision": null}

allowed_paths := {"paths": [path | some path in input.paths; _shown(path)], "revision": _revision} if {
	is_array(input.paths)
	object.get(input.resource, "size", null) == null
	count(_precondition_failures) == 0
	_allowed
}

# The path rules of one decision (stages 25 to 35 and the path precondition: the secret-store
# deny, and the path rules of the repository keys, of the caller's roles and of the caller),
# applied to `path` instead of the call's path: the rest of the decision does not depend on the path, and a
# decision per path (`decision with input.resource.path as path`) costs a millisecond each.
# opa-tests/result_paths_test.rego checks that both always agree.
_shown(path) if {
	is_string(path)
	_valid_path(path, _repo)
	not _path_refused(path)
}

_path_refused(path) if {
	_policy.secrets.store_paths.effect != "allow"
	_secret_store(path)
}

_path_refused(path) if _path_refused_by_rules(path)
