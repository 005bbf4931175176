package aegis.authz_test

import data.aegis.authz

# get_file_tree on acme/app, listing `paths` (fixture policy: paths.allow [src/**, README.md],
# paths.deny [src/secrets/**], secret stores .env, .env.*, *.pem, .ssh/**).
tree_listing(paths) := object.union(read_call("get_file_tree", "acme/app", null), {"paths": paths})

test_allowed_paths_keeps_only_paths_the_call_may_show_in_order if {
	listing := tree_listing(["src/main.py", "docs/guide.md", "src/secrets/prod.env", "README.md", "src", "src/.env"])
	result := authz.allowed_paths with input as listing with data.aegis.policy as policy
	result == {"paths": ["src/main.py", "README.md", "src"], "revision": null}
}

test_allowed_paths_reports_the_bundle_revision if {
	result := authz.allowed_paths with input as tree_listing(["src/a.py"])
		with data.aegis.policy as policy
		with data.aegis.meta.revision as "rev-7"
	result == {"paths": ["src/a.py"], "revision": "rev-7"}
}

test_allowed_paths_applies_secret_store_paths_on_repositories_without_rules if {
	listing := object.union(read_call("get_file_tree", "acme/other", null), {"paths": [".env", "a/key.pem", "a/b.py"]})
	result := authz.allowed_paths with input as listing with data.aegis.policy as policy
	result.paths == ["a/b.py"]
}

test_allowed_paths_refuses_paths_that_are_not_normalized if {
	weird := ["../x", "/etc/passwd", "a//b", "a/./b", "src/\u0000", 7, null, "src/ok.py"]
	result := authz.allowed_paths with input as tree_listing(weird) with data.aegis.policy as policy
	result.paths == ["src/ok.py"]
}

test_allowed_paths_is_empty_when_the_call_itself_is_denied if {
	listing := object.union(read_call("list_commits", "acme/app", null), {"paths": ["src/main.py"]})
	result := authz.allowed_paths with input as listing with data.aegis.policy as policy
	result.paths == []
}

test_allowed_paths_is_empty_for_a_malformed_input if {
	not_a_list := authz.allowed_paths with input as tree_listing("src/main.py") with data.aegis.policy as policy
	not_a_list == {"paths": [], "revision": null}
	bad_input := object.union(tree_listing(["src/main.py"]), {"version": 2})
	malformed := authz.allowed_paths with input as bad_input with data.aegis.policy as policy
	malformed.paths == []
	no_policy := authz.allowed_paths with input as tree_listing(["src/main.py"]) with data.aegis.policy as null
	no_policy.paths == []
}

# The batch applies the path rules alone; these cases check it against the whole decision made
# once per path, on repositories with and without rules, with secret stores denied and allowed.
_sample_paths := [
	"src/main.py", "src", "src/secrets", "src/secrets/a.txt", "README.md", "readme.md", "docs/x.md",
	".env", "src/.env", "src/.env.example", "a/.ssh/id", "key.PEM", "srcx/y", "a//b", "../x", "",
	"src/\u0000x", "src/ü.py",
]

_sample_policies := {
	"fixture": policy,
	"secret stores allowed": policy_with({"secrets": object.union(secrets, {"store_paths": object.union(
		secrets.store_paths,
		{"effect": "allow", "rule": "secrets.store_paths", "source": "p.yaml:30"},
	)})}),
}

test_allowed_paths_agrees_with_one_decision_per_path if {
	disagreements := {[name, repo] |
		some name, sample in _sample_policies
		some repo in ["acme/app", "acme/locked", "acme/other"]
		listing := object.union(read_call("get_file_contents", repo, null), {"paths": _sample_paths})
		batch := authz.allowed_paths with input as listing with data.aegis.policy as sample
		one_by_one := [path |
			some path in _sample_paths
			d := authz.decision with input as listing with input.resource.path as path with data.aegis.policy as sample
			d.allow
		]
		batch.paths != one_by_one
	}
	disagreements == set()
}
