/*
 * admin_bans: /v1/bans, the addresses and users this node refuses
 * (security/ban.h): its own bans and, with [security] share_bans, every
 * other node's, which reach it within a second.
 *
 *   GET    /v1/bans?kind=address|user     the bans in force
 *   POST   /v1/bans {"kind", "target", "seconds"}
 *                                         a manual ban, on every node
 *   DELETE /v1/bans/TARGET                lifts it (an address, or
 *                                         user@realm), on every node
 *
 * The node's table is what answers, not the database: it is what this
 * node enforces, and it is there without a database too.
 */
#include "admin/admin_internal.h"

#include "base/clock.h"
#include "security/ban.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A manual ban's longest life: 30 days, as [security] ban_time. */
#define BAN_SECONDS_MAX 2592000

static json_t *ban_json(const struct ban_info *b, uint64_t now_ms)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "kind", ban_kind_name(b->kind),
			 "target", b->target, "reason", ban_reason_name(b->reason), "node", b->node,
			 "since", (json_int_t)(b->since_ms / 1000), "until",
			 (json_int_t)(b->until_ms / 1000), "seconds_left",
			 (json_int_t)((b->until_ms - now_ms + 999) / 1000));
}

void admin_bans_list(struct admin_req *r)
{
	static const char *const args[] = {"kind", NULL};
	uint64_t now = clock_wall_ms();
	const char *kind_arg;
	enum ban_kind kind = BAN_ADDRESS;
	struct ban_info *all;
	json_t *arr;
	size_t n;

	if (!admin_args_only(r, args))
		return;
	kind_arg = admin_arg(r, "kind");
	if (kind_arg && ban_kind_parse(kind_arg, &kind) < 0) {
		admin_error(r, 400, ADMIN_E_BAD_REQUEST, "kind: '%s' is not address or user",
			    kind_arg);
		return;
	}
	all = malloc(sizeof(*all) * BAN_LIST_MAX);
	arr = json_array();
	if (!all || !arr) {
		free(all);
		json_decref(arr);
		admin_error(r, 500, ADMIN_E_INTERNAL, "out of memory");
		return;
	}
	n = ban_list(all, BAN_LIST_MAX, now);
	for (size_t i = 0; i < n; i++)
		if (!kind_arg || all[i].kind == kind)
			json_array_append_new(arr, ban_json(&all[i], now));
	free(all);
	admin_json(r, 200, json_pack("{s:o}", "items", arr));
}

void admin_bans_create(struct admin_req *r)
{
	static const char *const fields[] = {"kind", "target", "seconds", NULL};
	static const char *const required[] = {"target", "seconds", NULL};
	uint64_t now = clock_wall_ms();
	const char *kind_s, *target;
	enum ban_kind kind;
	json_t *o, *sec;
	struct ban_info b;
	bool ok = true;
	int rc;

	if (!admin_args_only(r, (const char *const[]){NULL}))
		return;
	o = admin_body_object(r);
	if (!o)
		return;
	if (!admin_fields_only(r, o, fields) || !admin_fields_required(r, o, required))
		goto out;
	kind_s = admin_field_str(r, o, "kind", &ok);
	if (!ok)
		goto out;
	target = admin_field_str(r, o, "target", &ok);
	if (!ok)
		goto out;
	/* Without a kind, what the target looks like says. */
	kind = ban_kind_of(target);
	if (kind_s && ban_kind_parse(kind_s, &kind) < 0) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "kind: '%s' is not address or user",
			    kind_s);
		goto out;
	}
	sec = json_object_get(o, "seconds");
	if (!json_is_integer(sec) || json_integer_value(sec) < 1 ||
	    json_integer_value(sec) > BAN_SECONDS_MAX) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD, "seconds: an integer 1..%d",
			    BAN_SECONDS_MAX);
		goto out;
	}
	rc = ban_add(kind, target, (unsigned)json_integer_value(sec), now);
	if (rc == -EINVAL) {
		admin_error(r, 422, ADMIN_E_INVALID_FIELD,
			    kind == BAN_USER ? "target: not user@realm"
					     : "target: not an IPv4 or IPv6 address");
		goto out;
	}
	if (rc < 0) {
		admin_error(r, 503, ADMIN_E_INTERNAL, "the ban table is full");
		goto out;
	}
	if (!ban_get(kind, target, now, &b)) {
		admin_error(r, 500, ADMIN_E_INTERNAL, "the ban was not kept");
		goto out;
	}
	snprintf(r->location, sizeof(r->location), "/v1/bans/%s", b.target);
	admin_json(r, 201, ban_json(&b, now));
out:
	json_decref(o);
}

void admin_ban_delete(struct admin_req *r)
{
	enum ban_kind kind = ban_kind_of(r->rest);

	if (!admin_args_only(r, (const char *const[]){NULL}))
		return;
	if (ban_lift(kind, r->rest, clock_wall_ms()) < 0) {
		admin_error(r, 404, ADMIN_E_NOT_FOUND, "no ban in force on %s", r->rest);
		return;
	}
	admin_json(r, 204, NULL);
}

void admin_ban_get(struct admin_req *r)
{
	enum ban_kind kind = ban_kind_of(r->rest);
	uint64_t now = clock_wall_ms();
	struct ban_info b;

	if (!admin_args_only(r, (const char *const[]){NULL}))
		return;
	if (!ban_get(kind, r->rest, now, &b)) {
		admin_error(r, 404, ADMIN_E_NOT_FOUND, "no ban in force on %s", r->rest);
		return;
	}
	admin_json(r, 200, ban_json(&b, now));
}
