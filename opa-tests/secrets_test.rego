package aegis.authz_test

import data.aegis.authz

# Secrets: the built-in deny of secret-store paths (precedence step "Secret-store path") and the
# "secrets" obligation of allowed calls. The fixture `secrets` carries four of the built-in globs;
# tests/policy_compiler/test_secret_stores.py checks every glob of the real list through OPA.

_builtin_deny := deny("builtin.secret_store_paths", "builtin")

# `policy` with secrets.<key> replaced by `value`.
_with_secrets(key, value) := replaced(policy, "secrets", replaced(secrets, key, value))

_store_paths(effect, source) := object.union(secrets.store_paths, {"effect": effect, "source": source})

_store_paths_allowed := _with_secrets("store_paths", _store_paths("allow", "p.yaml:7"))

# --- the built-in deny ----------------------------------------------------------------------

test_env_file_denied_by_builtin if {
	d := authz.decision with input as read_call("get_file_contents", "acme/other", ".env")
		with data.aegis.policy as policy
	d == denied([_builtin_deny])
}

test_secret_store_path_cases if {
	cases := {
		"nested .env": {"path": "deploy/prod/.env", "secret": true},
		".env with a suffix": {"path": ".env.local", "secret": true},
		".env template is not a secret store": {"path": ".env.example", "secret": false},
		"nested .env template": {"path": "config/.env.example", "secret": false},
		"a template's exception holds only for its own glob": {"path": ".ssh/.env.example", "secret": true},
		"matched case-insensitively": {"path": "keys/Server.PEM", "secret": true},
		"upper-case .env": {"path": "deploy/.ENV", "secret": true},
		"suffix after .pem": {"path": "key.pem.bak", "secret": false},
		"the .ssh directory itself": {"path": ".ssh", "secret": true},
		"a file under .ssh": {"path": "home/.ssh/known_hosts", "secret": true},
		"a name that only starts like .ssh": {"path": "src/.sshx/a", "secret": false},
		"a name that ends in .env": {"path": "prod.env", "secret": false},
		"ordinary source": {"path": "src/env.py", "secret": false},
	}
	failing := {note |
		some note, case in cases
		got := authz.decision with input as read_call("get_file_contents", "acme/other", case.path)
			with data.aegis.policy as policy
		got != _want_secret_store(case.secret)
	}
	print("failing:", failing)
	failing == set()
}

_want_secret_store(true) := denied([_builtin_deny])

_want_secret_store(false) := allowed([allow("defaults.read", "p.yaml:2")])

test_call_without_path_is_not_checked_for_secret_stores if {
	d := authz.decision with input as read_call("list_commits", "acme/other", null)
		with data.aegis.policy as policy
	d == allowed([allow("defaults.read", "p.yaml:2")])
}

test_explicit_path_allow_does_not_override_builtin_deny if {
	# acme/app allows src/** explicitly, and acme/locked names the tool in its tools.allow.
	app := authz.decision with input as read_call("get_file_contents", "acme/app", "src/.env")
		with data.aegis.policy as policy
	app == denied([_builtin_deny])
	locked := authz.decision with input as read_call("get_file_contents", "acme/locked", "id/.ssh/id_rsa")
		with data.aegis.policy as policy
	locked == denied([_builtin_deny])
}

test_builtin_deny_applies_to_writes if {
	d := authz.decision with input as call("create_file", "write", "acme/app", "src/server.pem", true)
		with data.aegis.policy as policy_with({"defaults": write_default("allow")})
	d == denied([_builtin_deny])
}

test_secret_store_deny_reported_in_stage_order if {
	d := authz.decision with input as read_call("search_code", "acme/app", "src/secrets/.env")
		with data.aegis.policy as policy
	d == denied([
		deny("tools.deny[0]", "p.yaml:5"),
		_builtin_deny,
		deny("repo.acme/app.paths.deny[0]", "p.yaml:17"),
	])
}

test_unreadable_store_paths_setting_denies if {
	d := authz.decision with input as read_call("get_file_contents", "acme/other", ".env")
		with data.aegis.policy as _with_secrets("store_paths", _store_paths("maybe", "p.yaml:7"))
	d == denied([_builtin_deny])
}

# --- secrets.store_paths: allow ---------------------------------------------------------------

test_store_paths_allow_turns_the_builtin_deny_off_and_is_named if {
	d := authz.decision with input as read_call("get_file_contents", "acme/other", "deploy/.env")
		with data.aegis.policy as _store_paths_allowed
	d == allowed([allow("secrets.store_paths", "p.yaml:7"), allow("defaults.read", "p.yaml:2")])
}

test_store_paths_allow_is_not_named_for_other_paths if {
	d := authz.decision with input as read_call("get_file_contents", "acme/other", "src/a.py")
		with data.aegis.policy as _store_paths_allowed
	d == allowed([allow("defaults.read", "p.yaml:2")])
}

test_store_paths_allow_leaves_the_path_rules if {
	d := authz.decision with input as read_call("get_file_contents", "acme/app", "src/secrets/.env")
		with data.aegis.policy as _store_paths_allowed
	d == denied([deny("repo.acme/app.paths.deny[0]", "p.yaml:17")])
}

# --- the secrets obligation --------------------------------------------------------------------

# acme/app blocks (line 13), the glob beta/* blocks (line 31), acme/mask masks (line 33).
_outputs := policy_with({
	"repositories": {
		"acme/app": repo_rules("acme/app", {"secrets": {"output": output("repo.acme/app.secrets.output", 13, "block")}}),
		"acme/mask": repo_rules("acme/mask", {"secrets": {"output": output("repo.acme/mask.secrets.output", 33, "mask")}}),
	},
	"repository_globs": {
		"by_owner": {"beta": [glob_rules("beta/*", `(?s)^beta/[^/]*$`, {"secrets": {
			"output": output("repo.beta/*.secrets.output", 31, "block"),
		}})]},
		"any_owner": [],
	},
})

_blocking := object.union(_outputs, {"secrets": {"output": output("secrets.output", 6, "block")}})

test_secrets_obligation_cases if {
	cases := {
		"mask by default": {"repo": "acme/other", "policy": policy, "want": "mask"},
		"without a repository, the global setting": {"repo": null, "policy": _outputs, "want": "mask"},
		"an exact key blocks": {"repo": "acme/app", "policy": _outputs, "want": "block"},
		"a glob key blocks": {"repo": "beta/web", "policy": _outputs, "want": "block"},
		"a repository without a setting keeps the global one": {"repo": "acme/other", "policy": _outputs, "want": "mask"},
		"a repository mask under a global mask": {"repo": "acme/mask", "policy": _outputs, "want": "mask"},
		"a global block applies everywhere": {"repo": "acme/other", "policy": _blocking, "want": "block"},
		"a global block applies without a repository": {"repo": null, "policy": _blocking, "want": "block"},
		"a repository mask cannot relax a global block": {"repo": "acme/mask", "policy": _blocking, "want": "block"},
		"an unreadable global setting blocks": {
			"repo": "acme/other",
			"policy": _with_secrets("output", output("secrets.output", 6, "redact")),
			"want": "block",
		},
	}
	failing := {note |
		some note, case in cases
		got := authz.decision with input as read_call("list_commits", case.repo, null)
			with data.aegis.policy as case.policy
		got.obligations != {"secrets": case.want}
	}
	print("failing:", failing)
	failing == set()
}

test_secrets_obligation_beside_the_size_limit if {
	p := object.union(_outputs, {"limits": {"max_file_bytes": limit("limits.max_file_bytes", 4, 1000)}})
	d := authz.decision with input as read_call("get_file_contents", "acme/app", "src/a.py")
		with data.aegis.policy as p
	d.obligations == {"max_file_bytes": 1000, "secrets": "block"}
}

test_denied_decision_has_no_obligations if {
	d := authz.decision with input as read_call("search_code", "acme/app", null)
		with data.aegis.policy as _blocking
	d == denied([deny("tools.deny[0]", "p.yaml:5")])
}

# --- policy_valid on the secrets shapes ----------------------------------------------------------

test_policy_with_secrets_settings_is_valid if {
	authz.policy_valid with data.aegis.policy as _blocking
	authz.policy_valid with data.aegis.policy as _store_paths_allowed
}

# `policy` whose only secret-store glob is `entry`.
_with_store_entry(entry) := _with_secrets("store_paths", replaced(secrets.store_paths, "entries", [entry]))

# `policy` whose only repository key is acme/x, with the rules `rules`.
_with_acme_x(rules) := replaced(policy, "repositories", {"acme/x": rules})

test_malformed_secrets_data_is_not_valid if {
	entry := secrets.store_paths.entries[1]
	cases := {
		"no secrets": object.remove(policy, ["secrets"]),
		"output mode unknown": _with_secrets("output", output("secrets.output", 6, "redact")),
		"output without source": _with_secrets("output", {"rule": "secrets.output", "mode": "mask"}),
		"store_paths effect unknown": _with_secrets("store_paths", _store_paths("maybe", "p.yaml:7")),
		"store_paths without entries": _with_secrets("store_paths", object.remove(secrets.store_paths, ["entries"])),
		"store_paths with no glob": _with_secrets("store_paths", replaced(secrets.store_paths, "entries", [])),
		"a glob regex that does not compile": _with_store_entry(replaced(entry, "regex", "(?s)^(x$")),
		"an exception regex that does not compile": _with_store_entry(replaced(entry, "unless", [
			{"glob": "x", "regex": "(x"},
		])),
		"exceptions not a list": _with_store_entry(replaced(entry, "unless", {})),
		"repository output mode unknown": _with_acme_x(repo_rules("acme/x", {"secrets": {"output": output("o", 1, "off")}})),
		"repository without secrets": _with_acme_x(object.remove(repo_rules("acme/x", {}), ["secrets"])),
	}
	failing := {note |
		some note, case in cases
		authz.policy_valid with data.aegis.policy as case
	}
	print("failing:", failing)
	failing == set()
}

# The secret-store globs are looked up through their index: one that leaves a glob out is refused.
test_store_path_index_that_hides_a_glob_is_refused if {
	authz.policy_valid with data.aegis.policy as policy
	hidden := json.patch(policy, [{"op": "replace", "path": "/secrets/store_paths/index/any_segment", "value": []}])
	not authz.policy_valid with data.aegis.policy as hidden
}
