# METADATA
# title: Decision log mask tests
# description: What system.log.mask erases from a logged decision's input, and what it keeps.
package system.log_test

import data.aegis.authz_test
import data.system.log

# A logged event of a decision whose input carries `args`.
_event(args) := {"decision_id": "d1", "path": "aegis/authz/decision", "input": {"version": 1, "args": args}}

test_contents_of_a_file_write_are_erased_and_its_targets_kept if {
	args := {
		"owner": "acme", "repo": "app", "filepath": "docs/a.md", "branch": "main",
		"content": "token=abc", "message": "Add notes",
	}
	masked := log.mask with input as _event(args) with data.aegis.policy as authz_test.policy
	masked == {"/input/args/content", "/input/args/message"}
}

test_titles_and_bodies_of_issues_and_comments_are_erased if {
	args := {"owner": "acme", "repo": "app", "index": 3, "title": "t", "body": "b"}
	masked := log.mask with input as _event(args) with data.aegis.policy as authz_test.policy
	masked == {"/input/args/title", "/input/args/body"}
}

test_arguments_the_policy_hashes_are_erased if {
	hashed := authz_test.rule_list("audit.hash_arguments", 4, "name", ["query"])
	args := {"owner": "acme", "repo": "app", "query": "AKIA", "ref": "main"}
	masked := log.mask with input as _event(args)
		with data.aegis.policy as authz_test.policy_with({"audit": {"hash_arguments": hashed}})
	masked == {"/input/args/query"}
}

test_contents_are_erased_even_without_policy_data if {
	masked := log.mask with input as _event({"content": "x", "ref": "main"})
	masked == {"/input/args/content"}
}

test_an_input_without_arguments_masks_nothing if {
	masked := log.mask with input as {"decision_id": "d2", "input": {"version": 1, "tools": []}}
		with data.aegis.policy as authz_test.policy
	masked == set()
}
