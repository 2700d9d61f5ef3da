/*
 * location: see location.h. One read per lookup (junction_lookup(), which
 * also says whether the user exists), sent in the worker's next batch; the
 * job waits for it and the caller's callback resumes it.
 */
#include "location.h"

#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

struct lookup {
	struct worker *w;
	location_fn fn;
	void *arg;
};

static int32_t q_thousandths(struct sip_str q)
{
	int32_t v;

	/* numeric(4,3) text: "1.000", "0.500" */
	return sip_qvalue_parse(q, &v) == 0 ? v : 1000;
}

static void looked_up(void *arg, int err, const struct store_result *r)
{
	struct lookup *l = arg;
	struct location_result res = {.known = false, .n = 0};

	if (err == 0) {
		for (unsigned i = 0; i < store_result_rows(r); i++) {
			struct sip_str known = store_result_get(r, i, 0);

			res.known = known.len && known.p[0] == 't';
			if (store_result_null(r, i, 1) || res.n == LOCATION_MAX)
				continue;
			res.t[res.n].contact = store_result_get(r, i, 1);
			res.t[res.n].q = q_thousandths(store_result_get(r, i, 2));
			res.t[res.n].path = store_result_get(r, i, 3);
			res.t[res.n].received = store_result_get(r, i, 4);
			res.n++;
		}
	}
	l->fn(l->w, l->arg, err, err ? NULL : &res);
	free(l);
}

int location_lookup(struct worker *w, struct sip_str user, struct sip_str domain, location_fn fn,
		    void *arg)
{
	char aor[512], dom[CFG_NAME_MAX];
	struct store_op *op;
	struct lookup *l;
	int err = -ENOTCONN;
	int n;

	if (!w->store)
		return -ENOTCONN;
	if (domain.len >= sizeof(dom))
		return -EINVAL;
	for (size_t i = 0; i < domain.len; i++)
		dom[i] = sip_tolower(domain.p[i]);
	n = snprintf(aor, sizeof(aor), "sip:%.*s@%.*s", SIP_STR_FMT(user), (int)domain.len, dom);
	if (n < 0 || (size_t)n >= sizeof(aor))
		return -EINVAL;
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->w = w;
	l->fn = fn;
	l->arg = arg;
	op = store_op_begin(w->store, STORE_LOOKUP, false, 0, looked_up, l, &err);
	if (!op) {
		free(l);
		return err;
	}
	store_op_param(op, aor, (size_t)n);
	store_op_param_str(op, user);
	store_op_param(op, dom, domain.len);
	return 0;
}
