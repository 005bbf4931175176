package aegis.authz_test

import data.aegis.authz

# The index of glob lists (docs/policy.md, "Data layout and index"): decisions find every glob
# that matches through it, and policy_valid refuses an index through which a glob could be missed.

# acme/app's paths.deny: [src/secrets/**] on line 17, then the [glob, regex] pairs of `extra`.
_deny_with(extra) := rule_list(
	"repo.acme/app.paths.deny", 17, "glob",
	array.concat([["src/secrets/**", `(?s)^src/secrets(?:/.*)?$`]], extra),
)

_policy_denying(extra) := replaced(policy, "repositories", object.union(policy.repositories, {"acme/app": object.union(
	policy.repositories["acme/app"],
	{"paths": {"deny": _deny_with(extra)}},
)}))

_deny_reason(i) := {
	"rule": sprintf("repo.acme/app.paths.deny[%d]", [i]), "effect": "deny",
	"source": sprintf("p.yaml:%d", [17 + i]),
}

# Two chunks under the segment "src": a chunk whose expression does not match is skipped, and
# every glob of one that does is tried.
_two_chunks := {
	"by_segment": {"src": [
		{"regex": `(?s)^src/secrets(?:/.*)?$`, "entries": [0]},
		{"regex": `(?s)^(?:src/.*\.key|src/a/.*)$`, "entries": [1, 2]},
	]},
	"any_segment": [{"regex": `(?s)^(?:.*/)?.*\.key$`, "entries": [3]}],
}

_chunked := replaced(policy, "repositories", object.union(policy.repositories, {"acme/app": object.union(
	policy.repositories["acme/app"],
	{"paths": {"deny": replaced(
		_deny_with([
			["src/*.key", `(?s)^src/.*\.key$`],
			["src/a/*", `(?s)^src/a/.*$`],
			["**/*.key", `(?s)^(?:.*/)?.*\.key$`],
		]),
		"index",
		_two_chunks,
	)}},
)}))

test_every_matching_glob_of_every_chunk_is_a_reason if {
	decision := authz.decision with input as read_call("get_file_contents", "acme/app", "src/a/id.key")
		with data.aegis.policy as _chunked
	decision.allow == false
	decision.reasons == [_deny_reason(1), _deny_reason(2), _deny_reason(3)]
}

test_glob_with_a_wildcard_first_segment_matches_in_any_directory if {
	decision := authz.decision with input as read_call("get_file_contents", "acme/app", "src/lib/x/generated/a.py")
		with data.aegis.policy as _policy_denying([["*/generated/**", `(?s)^.*/generated(?:/.*)?$`]])
	decision.reasons == [_deny_reason(1)]
}

test_literal_first_segment_glob_does_not_match_another_directory if {
	decision := authz.decision with input as read_call("get_file_contents", "acme/app", "src/docs/secrets/a.md")
		with data.aegis.policy as _policy_denying([["docs/**", `(?s)^docs(?:/.*)?$`]])
	decision.allow == true
}

test_unicode_first_segment_is_looked_up_as_written if {
	decision := authz.decision with input as read_call("get_file_contents", "acme/app", "src/café/menu.md")
		with data.aegis.policy as _policy_denying([["src/café/**", `(?s)^src/café(?:/.*)?$`]])
	decision.reasons == [_deny_reason(1)]
}

test_fixture_index_is_valid if {
	authz.policy_valid with data.aegis.policy as _chunked
	two_deny_globs := [["**/x", `(?s)^(?:.*/)?x$`], ["docs/**", `(?s)^docs(?:/.*)?$`]]
	authz.policy_valid with data.aegis.policy as _policy_denying(two_deny_globs)
}

test_index_that_could_hide_a_glob_is_refused if {
	deny := _deny_with([["**/*.key", `(?s)^(?:.*/)?.*\.key$`], ["docs/**", `(?s)^docs(?:/.*)?$`]])
	cases := {
		"an entry in no chunk": {"by_segment": deny.index.by_segment, "any_segment": []},
		"an entry under another segment": {
			"by_segment": {"src": deny.index.by_segment.src, "lib": deny.index.by_segment.docs},
			"any_segment": deny.index.any_segment,
		},
		"a wildcard glob under its first segment": {
			"by_segment": object.union(deny.index.by_segment, {"**": deny.index.any_segment}),
			"any_segment": [],
		},
		"a chunk pointing past the entries": {
			"by_segment": deny.index.by_segment,
			"any_segment": [{"regex": "x", "entries": [1, 7]}],
		},
		"a chunk regex that does not compile": {
			"by_segment": deny.index.by_segment,
			"any_segment": [{"regex": "(x", "entries": [1]}],
		},
		"no index": null,
	}
	refused := {note |
		some note, index in cases
		not authz.policy_valid with data.aegis.policy as _policy_denying_with_index(deny, index)
	}
	refused == object.keys(cases)
	authz.policy_valid with data.aegis.policy as _policy_denying_with_index(deny, deny.index)
}

_policy_denying_with_index(deny, index) := replaced(
	policy, "repositories",
	object.union(policy.repositories, {"acme/app": object.union(
		policy.repositories["acme/app"],
		{"paths": {"deny": replaced(deny, "index", index)}},
	)}),
)
