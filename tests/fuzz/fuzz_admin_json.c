/*
 * libFuzzer target for the admin API's request bodies (src/admin/): the
 * JSON a client POSTs or PATCHes to /v1/subscribers and /v1/sip-servers.
 * The handlers themselves run, on a request built here: jansson's
 * json_loadb with duplicate keys refused (admin_body_object), the field
 * checks (admin_fields_only, admin_fields_required, admin_field_str,
 * admin_field_bool), and each resource's value checks (user_problem,
 * the domain check, password_ok; name_field, uri_problem through our
 * SIP URI parser, role, weight). A body that passes every check reaches
 * admin_db(), which answers 503 here because no database pool exists,
 * so no SQL is ever sent. Bindings and sessions take no body (their
 * input is the path and the query string, read through libmicrohttpd).
 *
 * Byte 0 of the input picks the handler; the rest is the body. The
 * admin module is opened once with the API off ([admin] has no token), so
 * admin_config() is set and nothing listens. The response each handler
 * leaves in the request is freed here, as on_completed() does.
 */
#include "admin/admin.h"
#include "admin/admin_internal.h"
#include "base/log.h"
#include "config/config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct config cfg;

static const struct {
	admin_handler fn;
	const char *rest; /* the path after the route prefix */
} handlers[] = {
	{admin_subscribers_create, ""},
	{admin_subscriber_patch, "alice@example.com"},
	{admin_sip_servers_create, ""},
	{admin_sip_server_patch, "sc-1.dc1"},
};

static void setup(void)
{
	static const char text[] = "[sip]\n"
				   "domain = example.com example.org\n";

	/* Quiet: admin_open() says at info level that the API is off. */
	if (log_open(LOG_LVL_WARN, "stderr") != 0 ||
	    config_load_string(text, "fuzz.conf", &cfg, stderr) != 0 || admin_open(&cfg) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct admin_req r;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size < 1)
		return 0;
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.url = "/v1/fuzz";
	r.rest = handlers[data[0] % (sizeof(handlers) / sizeof(handlers[0]))].rest;
	r.fn = handlers[data[0] % (sizeof(handlers) / sizeof(handlers[0]))].fn;
	/* admin.c hands handlers a NUL-terminated body of body_len bytes. */
	r.body_len = size - 1;
	r.body = malloc(size);
	if (!r.body)
		return 0;
	memcpy(r.body, data + 1, size - 1);
	r.body[size - 1] = '\0';
	r.fn(&r);
	/* Every path answers: a 4xx for a bad body, else 503 (no database). */
	if (!r.status)
		abort();
	free(r.out);
	free(r.body);
	return 0;
}
