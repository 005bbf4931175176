# METADATA
# title: Decision log mask
# description: |
#   What OPA's decision log (when an operator turns it on) leaves out of each logged input:
#   the arguments that carry content (a file's, a comment's or issue's body, a title, a commit
#   message), and those the policy's audit.hash_arguments names. OPA evaluates this rule on
#   every decision it logs (decision_logs.mask_decision defaults to /system/log/mask), so the
#   log joins the gateway's audit entries by decision_id without holding what they keep out.
# scope: package
package system.log

# The arguments of the gateway's tools that carry content (gateway.tools.CONTENT_ARGUMENTS).
_content_arguments := {"body", "content", "message", "title"}

# METADATA
# title: Masked arguments
# description: The JSON pointers erased from a logged input, one per argument it holds.
mask contains sprintf("/input/args/%s", [name]) if {
	some name, _ in input.input.args
	_masked(name)
}

_masked(name) if name in _content_arguments

_masked(name) if {
	some entry in data.aegis.policy.audit.hash_arguments.entries
	entry.name == name
}
