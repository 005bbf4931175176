# METADATA
# title: Test fixtures
# description: Small compiled policies (the shape policy_compiler writes) and input builders.
package aegis.authz_test

# A list as the compiler writes it: `kind` is "name" (tools), "repo" or "glob" (with `regex`, and
# the list with its index). Entry i stands on line `line + i`.
rule_list(rule, line, kind, values) := object.union(
	{
		"rule": rule,
		"source": sprintf("p.yaml:%d", [line]),
		"entries": [entry |
			some i, value in values
			entry := object.union(
				{"rule": sprintf("%s[%d]", [rule, i]), "source": sprintf("p.yaml:%d", [line + i])},
				_entry_value(kind, value),
			)
		],
	},
	_list_index(kind, values),
)

# The index of a glob list (`values`: [glob, regex]) as the compiler writes it: positions by literal
# first segment, or under any_segment, each group in one chunk with the alternation of its regexes.
_list_index("glob", values) := {"index": {
	"by_segment": {segment: [_chunk(values, [i | some i, value in values; _first_segment(value[0]) == segment])] |
		some value in values
		segment := _first_segment(value[0])
		not regex.match(`[*?]`, segment)
	},
	"any_segment": [_chunk(values, wild) |
		wild := [i | some i, value in values; regex.match(`[*?]`, _first_segment(value[0]))]
		count(wild) > 0
	],
}}

_list_index(kind, _) := {} if kind != "glob"

_first_segment(pattern) := split(pattern, "/")[0]

_chunk(values, positions) := {
	"regex": sprintf("(?s)^(?:%s)$", [concat("|", [_regex_body(values[i][1]) | some i in positions])]),
	"entries": positions,
}

# A glob's anchored regex without its anchors, to be joined with others into one alternation.
_regex_body(anchored) := trim_suffix(trim_prefix(anchored, "(?s)^"), "$")

_entry_value("glob", value) := {"glob": value[0], "regex": value[1]}

_entry_value("repo", value) := {"repo": value} if is_string(value)

_entry_value("repo", value) := {"repo": value[0], "regex": value[1], "example": value[2]} if is_array(value)

_entry_value(kind, value) := {kind: value} if not kind in {"glob", "repo"}

# A repository list (`values`: exact names, or [glob, regex, example]) with its index, as the
# compiler writes it: exact names by name, globs by literal owner or under any_owner.
repo_list(rule, line, values) := object.union(rule_list(rule, line, "repo", values), {"index": {
	"exact": {name: i | some i, name in values; is_string(name)},
	"by_owner": {owner: [i |
		some i, value in values
		is_array(value)
		split(value[0], "/")[0] == owner
	] |
		some value in values
		is_array(value)
		owner := split(value[0], "/")[0]
		not contains(owner, "*")
	},
	"any_owner": [i |
		some i, value in values
		is_array(value)
		contains(split(value[0], "/")[0], "*")
	],
}})

absent(rule) := {"rule": rule, "source": "builtin", "entries": []}

absent_repo_list(rule) := object.union(absent(rule), {"index": {"exact": {}, "by_owner": {}, "any_owner": []}})

repo_rules(name, overrides) := object.union(
	{
		"rule": sprintf("repo.%s", [name]),
		"source": "p.yaml:10",
		"tools": {
			"allow": absent(sprintf("repo.%s.tools.allow", [name])),
			"deny": absent(sprintf("repo.%s.tools.deny", [name])),
		},
		"paths": {
			"allow": absent(sprintf("repo.%s.paths.allow", [name])),
			"deny": absent(sprintf("repo.%s.paths.deny", [name])),
			"roles": {},
			"principals": {},
		},
		"limits": {"max_file_bytes": null},
		"secrets": {"output": null},
		"require_approval": absent(sprintf("repo.%s.require_approval", [name])),
	},
	overrides,
)

# Rules of repository glob key `key` (with its regex `key_regex`), as listed in repository_globs.
glob_rules(key, key_regex, overrides) := object.union(repo_rules(key, overrides), {"glob": key, "regex": key_regex})

# A size limit on line `line`.
limit(rule, line, bytes) := {"rule": rule, "source": sprintf("p.yaml:%d", [line]), "bytes": bytes}

# The secrets settings as the compiler writes them when the file has no `secrets`, with a few of
# the built-in secret-store globs: .env, .env.* unless .env.example, *.pem and .ssh/**.
secrets := {
	"output": {"rule": "secrets.output", "source": "builtin", "mode": "mask"},
	"store_paths": object.union(
		{
			"rule": "secrets.store_paths",
			"source": "builtin",
			"effect": "deny",
			"entries": _store_entries,
		},
		_list_index("glob", [[entry.glob, entry.regex] | some entry in _store_entries]),
	),
}

_store_entries := [
	{"glob": "**/.env", "regex": `(?s)^(?:.*/)?\.env$`, "unless": []},
	{
		"glob": "**/.env.*",
		"regex": `(?s)^(?:.*/)?\.env\..*$`,
		"unless": [{"glob": "**/.env.example", "regex": `(?s)^(?:.*/)?\.env\.example$`}],
	},
	{"glob": "**/*.pem", "regex": `(?s)^(?:.*/)?.*\.pem$`, "unless": []},
	{"glob": "**/.ssh/**", "regex": `(?s)^(?:.*/)?\.ssh(?:/.*)?$`, "unless": []},
]

# A secrets.output setting `mode` named `rule`, on line `line`.
output(rule, line, mode) := {"rule": rule, "source": sprintf("p.yaml:%d", [line]), "mode": mode}

# defaults: {read: allow, write: deny}     (lines 2, 3)
# tools: {deny: [search_code]}             (line 5)
# write: {repositories: [acme/app]}        (line 8)
# repositories:
#   acme/app:    tools.deny [list_commits] (line 12)
#                paths.allow [src/**, README.md] (line 14), paths.deny [src/secrets/**] (line 17)
#   acme/locked: tools.allow [get_file_contents] (line 22)
policy := {
	"format": 6,
	"source": {"file": "p.yaml", "sha256": "0"},
	"defaults": {
		"read": {"rule": "defaults.read", "effect": "allow", "source": "p.yaml:2"},
		"write": {"rule": "defaults.write", "effect": "deny", "source": "p.yaml:3"},
		"automation": {"rule": "defaults.automation", "effect": "deny", "source": "builtin"},
	},
	"limits": {"max_file_bytes": null},
	"secrets": secrets,
	"audit": {"hash_arguments": absent("audit.hash_arguments")},
	"tools": {
		"allow": absent("tools.allow"),
		"deny": rule_list("tools.deny", 5, "name", ["search_code"]),
	},
	"write": {
		"repositories": repo_list("write.repositories", 8, ["acme/app"]),
		"branches": absent("write.branches"),
		"require_approval": absent("write.require_approval"),
	},
	"repositories": {
		"acme/app": repo_rules("acme/app", {
			"tools": {
				"allow": absent("repo.acme/app.tools.allow"),
				"deny": rule_list("repo.acme/app.tools.deny", 12, "name", ["list_commits"]),
			},
			"paths": {
				"allow": rule_list("repo.acme/app.paths.allow", 14, "glob", [
					["src/**", `(?s)^src(?:/.*)?$`],
					["README.md", `(?s)^README\.md$`],
				]),
				"deny": rule_list("repo.acme/app.paths.deny", 17, "glob", [["src/secrets/**", `(?s)^src/secrets(?:/.*)?$`]]),
			},
		}),
		"acme/locked": repo_rules("acme/locked", {"tools": {
			"allow": rule_list("repo.acme/locked.tools.allow", 22, "name", ["get_file_contents"]),
			"deny": absent("repo.acme/locked.tools.deny"),
		}}),
	},
	"repository_globs": {"by_owner": {}, "any_owner": []},
	"roles": {},
	"principals": {},
}

# `policy` with some top-level parts replaced.
policy_with(overrides) := object.union(policy, overrides)

read_default(effect) := {"read": {"rule": "defaults.read", "effect": effect, "source": "p.yaml:2"}}

write_default(effect) := {"write": {"rule": "defaults.write", "effect": effect, "source": "p.yaml:3"}}

# A well-formed decision input.
call(tool, capability, repo, path, write_mode) := {
	"version": 1,
	"principal": {"id": "ci-bot", "kind": "api_key", "scopes": ["tools:read", "tools:write"], "roles": []},
	"tool": {"name": tool, "capability": capability},
	"resource": {"repo": repo, "path": path, "ref": null},
	"args": {},
	"context": {"write_mode": write_mode, "time": "2026-11-21T10:00:00Z", "request_id": "r1"},
}

read_call(tool, repo, path) := call(tool, "read", repo, path, false)

allow(rule, source) := {"rule": rule, "effect": "allow", "source": source}

deny(rule, source) := {"rule": rule, "effect": "deny", "source": source}

# An allowed decision with the default obligation: secrets found in the output are masked.
allowed(reasons) := {
	"allow": true,
	"reasons": reasons,
	"obligations": {"secrets": "mask"},
	"revision": null,
	"audit": {"hash_arguments": []},
}

# A deny by a precondition when the policy data is missing or unusable: no audit settings then.
refused(reasons) := {"allow": false, "reasons": reasons, "obligations": {}, "revision": null}

denied(reasons) := {
	"allow": false, "reasons": reasons, "obligations": {}, "revision": null,
	"audit": {"hash_arguments": []},
}

# `obj` with `key` set to `value` (object.union would merge nested objects instead).
replaced(obj, key, value) := object.union(object.remove(obj, [key]), {key: value})

# Rules of repository `name` with one tools list (`effect` is "allow" or "deny") starting on `line`.
repo_with_tools(name, effect, line, names) := repo_rules(name, {"tools": {
	effect: rule_list(sprintf("repo.%s.tools.%s", [name, effect]), line, "name", names),
}})
